/**
 * Description: matches when the input, read as an integer, equals the parameter. As in ModSecurity
 * v3 both sides go through `std::stoi`: the leading integer counts, text without digits and values
 * outside the 32-bit range are 0 (so `abc` equals `0`).
 * Arguments: the number to compare with (macros allowed).
 * Example SecRule: SecRule &REQUEST_HEADERS:Host "@eq 0" "id:1,phase:1,t:none,deny"
 */
import { MATCH_WITHOUT_CAPTURE } from './match-result.js'
import { stoi } from './numeric.js'
import type { OperatorFactory } from './operator.js'

export const eq: OperatorFactory = (param) => {
  const expected = stoi(param)
  return (input) => (stoi(input) === expected ? MATCH_WITHOUT_CAPTURE : null)
}
