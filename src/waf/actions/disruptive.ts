/**
 * Disruptive actions: what happens when the rule (the whole chain) matches. The last one written wins.
 *
 * - `deny` — Description: stop the transaction with `status` (default 403). Arguments: none.
 *   Example: `SecRule REQUEST_METHOD "@streq TRACE" "id:2001,phase:1,deny,status:405"`
 * - `block` — Description: use the disruptive action of the phase's SecDefaultAction (CRS anomaly mode: pass).
 *   Example: `SecRule ARGS "@detectSQLi" "id:2002,phase:2,block"`
 * - `drop` — Description: close the connection (the edge resets it). Example: `"id:2003,phase:1,drop"`
 * - `pass` — Description: keep going. Example: `"id:2004,phase:1,pass,setvar:tx.x=1"`
 * - `allow` — Description: stop evaluating. Arguments: none (rest of the transaction), `phase` (rest of this
 *   phase), `request` (rest of the request phases). Example: `SecRule REMOTE_ADDR "@ipMatch 10.0.0.1" "id:2005,phase:1,allow"`
 * - `redirect` — Description: answer with a redirect (302 unless `status` says 301/303/307). Arguments: a URL
 *   (macros allowed). Example: `"id:2006,phase:1,redirect:https://example.com/blocked"`
 * - `proxy` — Description: ModSecurity's reverse-proxy action; Palisade never proxies on a rule's say-so, so it
 *   denies instead (documented). Example: `"id:2007,phase:1,proxy:http://honeypot"`
 * - `status` — Description: the HTTP status for deny/redirect. Arguments: 100..599. Example: `"id:2008,deny,status:400"`
 */
import { actionError, forbidArg, requireArg, type ActionDefinition, type DisruptiveAction } from './action.js'
import { parseMacro } from './macro.js'

function simple(name: DisruptiveAction): ActionDefinition {
  return {
    name,
    kind: 'disruptive',
    init(rule, arg) {
      forbidArg(name, arg)
      rule.disruptive = name
    },
  }
}

export const deny = simple('deny')
export const block = simple('block')
export const drop = simple('drop')
export const pass = simple('pass')

export const allow: ActionDefinition = {
  name: 'allow',
  kind: 'disruptive',
  init(rule, arg) {
    rule.disruptive = 'allow'
    if (arg === undefined || arg === '') rule.allowScope = 'all'
    else if (arg === 'phase' || arg === 'request') rule.allowScope = arg
    else actionError(`allow takes no argument, 'phase' or 'request'; got '${arg}'`)
  },
}

export const redirect: ActionDefinition = {
  name: 'redirect',
  kind: 'disruptive',
  init(rule, arg) {
    rule.disruptive = 'redirect'
    rule.redirectUrl = parseMacro(requireArg('redirect', arg))
  },
}

export const proxy: ActionDefinition = {
  name: 'proxy',
  kind: 'disruptive',
  init(rule, arg) {
    requireArg('proxy', arg)
    rule.disruptive = 'deny'
  },
}

export const status: ActionDefinition = {
  name: 'status',
  kind: 'data',
  init(rule, arg) {
    const text = requireArg('status', arg)
    if (!/^\d{3}$/.test(text) || Number(text) < 100 || Number(text) > 599) {
      actionError(`status must be an HTTP status 100..599, got '${text}'`)
    }
    rule.status = Number(text)
  },
}
