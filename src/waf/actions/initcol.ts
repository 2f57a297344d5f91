/**
 * Persistent collections (kept in the engine's CollectionStore, in memory by default, with expiry).
 *
 * - `initcol` — Description: binds IP, GLOBAL, RESOURCE, USER or SESSION to a key for this transaction.
 *   Arguments: `col=key` (macros allowed).
 *   Example: `SecAction "id:5201,phase:1,pass,nolog,initcol:ip=%{remote_addr}_%{tx.ua_hash}"`
 * - `setuid` — Description: binds USER to the key. Example: `SecRule ARGS:login "@rx ." "id:5202,phase:2,setuid:%{ARGS.login}"`
 * - `setsid` — Description: binds SESSION to the key. Example: `SecRule REQUEST_COOKIES:sid "@rx ." "id:5203,setsid:%{REQUEST_COOKIES.sid}"`
 */
import { actionError, requireArg, type ActionDefinition } from './action.js'
import { parseMacro } from './macro.js'

const COLLECTIONS = new Set(['ip', 'global', 'resource', 'user', 'session'])

export const initcol: ActionDefinition = {
  name: 'initcol',
  kind: 'nondisruptive',
  init(rule, arg) {
    const text = requireArg('initcol', arg)
    const eq = text.indexOf('=')
    if (eq <= 0) actionError(`initcol needs 'collection=key', got '${text}'`)
    const collection = text.slice(0, eq).trim().toLowerCase()
    if (!COLLECTIONS.has(collection)) actionError(`initcol: unknown collection '${collection}'`)
    const key = parseMacro(text.slice(eq + 1))
    rule.effects.push((tx, info) => tx.initCollection(collection, tx.expand(key, info)))
  },
}

function bind(name: string, collection: string): ActionDefinition {
  return {
    name,
    kind: 'nondisruptive',
    init(rule, arg) {
      const key = parseMacro(requireArg(name, arg))
      rule.effects.push((tx, info) => tx.initCollection(collection, tx.expand(key, info)))
    },
  }
}

export const setuid = bind('setuid', 'user')
export const setsid = bind('setsid', 'session')
