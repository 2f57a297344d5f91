/**
 * Description: matches when the input starts with the parameter (case-sensitive). With `capture`,
 * TX.0 is the parameter.
 * Arguments: the prefix (macros allowed).
 * Example SecRule: SecRule REQUEST_URI "@beginsWith /admin" "id:1,phase:1,t:none,deny"
 */
import { fixedMatch } from './match-result.js'
import type { OperatorFactory } from './operator.js'

export const beginsWith: OperatorFactory = (param) => {
  const hit = fixedMatch(param)
  return (input) => (input.startsWith(param) ? hit : null)
}
