/**
 * Description: matches when the input occurs somewhere in the parameter (the reverse of @contains;
 * a plain substring search, so `GET` is within `GET HEAD POST` and so is `ET H`). As in ModSecurity
 * v3, an empty input matches. With `capture`, TX.0 is the input.
 * Arguments: the list, usually space-separated (macros allowed).
 * Example SecRule: SecRule REQUEST_METHOD "!@within GET HEAD POST" "id:1,phase:1,t:none,deny"
 */
import { MATCH_WITHOUT_CAPTURE } from './match-result.js'
import type { OperatorFactory } from './operator.js'

export const within: OperatorFactory = (param) => (input) => {
  if (input === '') return MATCH_WITHOUT_CAPTURE
  return param.includes(input) ? { captures: [input] } : null
}
