/**
 * Description: matches when the parameter occurs anywhere in the input (case-sensitive). An empty
 * parameter matches every input. With `capture`, TX.0 is the parameter.
 * Arguments: the string to look for (macros allowed).
 * Example SecRule: SecRule REQUEST_LINE "@contains <script" "id:1,phase:1,t:none,t:lowercase,deny"
 */
import { fixedMatch } from './match-result.js'
import type { OperatorFactory } from './operator.js'

export const contains: OperatorFactory = (param) => {
  const hit = fixedMatch(param)
  return (input) => (input.includes(param) ? hit : null)
}
