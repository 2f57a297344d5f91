/**
 * Description: matches when the parameter occurs anywhere in the input (case-sensitive). ModSecurity
 * implements it with Boyer-Moore-Horspool; String#indexOf gives the same answer.
 * Arguments: the string to look for.
 * Example SecRule: SecRule REQUEST_LINE "@strmatch WebZIP" "id:1,phase:1,t:none,deny"
 */
import { fixedMatch } from './match-result.js'
import type { OperatorFactory } from './operator.js'

export const strmatch: OperatorFactory = (param) => {
  const hit = fixedMatch(param)
  return (input) => (input.includes(param) ? hit : null)
}
