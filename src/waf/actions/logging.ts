/**
 * Logging actions. Palisade has no ModSecurity audit log: `auditlog`/`noauditlog` are recorded on the
 * rule only; the `sanitise*` family is accepted and ignored because Palisade masks secrets in every
 * matched-data record anyway.
 *
 * - `log` / `nolog` — Description: whether a match is reported (matched-rule records carry `log`).
 *   Arguments: none. Example: `SecRule ARGS "@rx x" "id:4001,phase:2,pass,nolog,setvar:tx.x=1"`
 * - `auditlog` / `noauditlog` — Description: audit-log marking. Arguments: none. Example: `"id:4002,noauditlog"`
 * - `sanitiseArg`, `sanitiseMatched`, `sanitiseMatchedBytes`, `sanitiseRequestHeader`, `sanitiseResponseHeader`
 *   — Description: mask data in the audit log. Arguments: a name or none. Example: `"id:4003,sanitiseArg:password"`
 */
import { forbidArg, type ActionDefinition } from './action.js'

export const log: ActionDefinition = {
  name: 'log',
  kind: 'nondisruptive',
  init(rule, arg) {
    forbidArg('log', arg)
    rule.log = true
  },
}

export const nolog: ActionDefinition = {
  name: 'nolog',
  kind: 'nondisruptive',
  init(rule, arg) {
    forbidArg('nolog', arg)
    rule.log = false
    // As in ModSecurity, nolog implies noauditlog unless auditlog is given later.
    rule.auditlog = false
  },
}

export const auditlog: ActionDefinition = {
  name: 'auditlog',
  kind: 'nondisruptive',
  init(rule, arg) {
    forbidArg('auditlog', arg)
    rule.auditlog = true
  },
}

export const noauditlog: ActionDefinition = {
  name: 'noauditlog',
  kind: 'nondisruptive',
  init(rule, arg) {
    forbidArg('noauditlog', arg)
    rule.auditlog = false
  },
}

function accepted(name: string): ActionDefinition {
  return { name, kind: 'nondisruptive', init() {} }
}

export const sanitiseArg = accepted('sanitiseArg')
export const sanitiseMatched = accepted('sanitiseMatched')
export const sanitiseMatchedBytes = accepted('sanitiseMatchedBytes')
export const sanitiseRequestHeader = accepted('sanitiseRequestHeader')
export const sanitiseResponseHeader = accepted('sanitiseResponseHeader')
