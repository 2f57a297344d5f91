/**
 * Flow actions. Only a chain starter may carry `skip`/`skipAfter`.
 *
 * - `chain` — Description: the next SecRule is part of this rule; the whole chain must match.
 *   Arguments: none. Example: `SecRule REQUEST_METHOD "@streq POST" "id:3001,phase:2,deny,chain"` then
 *   `SecRule &REQUEST_HEADERS:Content-Length "@eq 0"`
 * - `skip` — Description: on a match, skip the next N rules (chains count once) of this phase. Arguments: N ≥ 1.
 *   Example: `SecRule REQUEST_METHOD "@streq GET" "id:3002,phase:1,pass,nolog,skip:2"`
 * - `skipAfter` — Description: on a match, continue after the named SecMarker in this phase. Arguments: marker name.
 *   Example: `SecRule TX:PARANOIA_LEVEL "@lt 2" "id:3003,phase:2,pass,nolog,skipAfter:END-PL2"`
 */
import { actionError, forbidArg, requireArg, type ActionDefinition } from './action.js'

export const chain: ActionDefinition = {
  name: 'chain',
  kind: 'flow',
  init(rule, arg) {
    forbidArg('chain', arg)
    rule.chain = true
  },
}

export const skip: ActionDefinition = {
  name: 'skip',
  kind: 'flow',
  init(rule, arg) {
    const text = requireArg('skip', arg)
    if (!/^\d+$/.test(text) || Number(text) < 1) actionError(`skip needs a positive count, got '${text}'`)
    rule.skip = Number(text)
  },
}

export const skipAfter: ActionDefinition = {
  name: 'skipAfter',
  kind: 'flow',
  init(rule, arg) {
    rule.skipAfter = requireArg('skipAfter', arg)
  },
}
