/**
 * `t` — Description: adds a transformation to the rule's chain, applied to every value before the operator.
 * `t:none` drops all earlier ones, including those inherited from SecDefaultAction. Names are checked
 * against the transformation registry when the rule is compiled.
 * Arguments: a transformation name. Example SecRule:
 * `SecRule ARGS "@rx <script" "id:5401,phase:2,t:none,t:urlDecodeUni,t:htmlEntityDecode,t:lowercase,block"`
 */
import { requireArg, type ActionDefinition } from './action.js'

export const t: ActionDefinition = {
  name: 't',
  kind: 'nondisruptive',
  init(rule, arg) {
    const name = requireArg('t', arg).trim()
    if (name.toLowerCase() === 'none') {
      rule.transforms.length = 0
      rule.transformsReset = true
      return
    }
    rule.transforms.push(name)
  },
}
