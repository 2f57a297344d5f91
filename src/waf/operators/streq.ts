/**
 * Description: matches when the input equals the parameter exactly (case-sensitive, byte for byte).
 * Arguments: the string to compare with (macros allowed).
 * Example SecRule: SecRule REQUEST_METHOD "@streq POST" "id:1,phase:1,t:none,pass"
 */
import { fixedMatch } from './match-result.js'
import type { OperatorFactory } from './operator.js'

export const streq: OperatorFactory = (param) => {
  const hit = fixedMatch(param)
  return (input) => (input === param ? hit : null)
}
