/**
 * - `capture` — Description: with `@rx`, stores the match and groups in TX:0..TX:9 for later rules/macros.
 *   Arguments: none. Example: `SecRule ARGS "@rx (union)\s+(select)" "id:5301,phase:2,capture,logdata:'%{TX.1}'"`
 * - `multiMatch` — Description: runs the operator after every transformation step, not only on the final value.
 *   Arguments: none. Example: `SecRule ARGS "@rx <script" "id:5302,phase:2,t:none,t:urlDecode,t:htmlEntityDecode,multiMatch"`
 */
import { forbidArg, type ActionDefinition } from './action.js'

export const capture: ActionDefinition = {
  name: 'capture',
  kind: 'nondisruptive',
  init(rule, arg) {
    forbidArg('capture', arg)
    rule.capture = true
  },
}

export const multiMatch: ActionDefinition = {
  name: 'multiMatch',
  kind: 'nondisruptive',
  init(rule, arg) {
    forbidArg('multiMatch', arg)
    rule.multiMatch = true
  },
}
