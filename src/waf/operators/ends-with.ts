/**
 * Description: matches when the input ends with the parameter (case-sensitive). With `capture`,
 * TX.0 is the parameter.
 * Arguments: the suffix (macros allowed).
 * Example SecRule: SecRule REQUEST_FILENAME "@endsWith .php" "id:1,phase:1,t:none,t:lowercase,deny"
 */
import { fixedMatch } from './match-result.js'
import type { OperatorFactory } from './operator.js'

export const endsWith: OperatorFactory = (param) => {
  const hit = fixedMatch(param)
  return (input) => (input.endsWith(param) ? hit : null)
}
