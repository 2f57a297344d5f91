/**
 * Description: matches when the input, read as an integer, is less than the parameter. As in
 * ModSecurity v3 both sides go through `atoll`: the leading integer counts (`12abc` is 12), text
 * without digits is 0, values are clamped to 64 bits.
 * Arguments: the number to compare with (macros allowed, e.g. `%{tx.max_num_args}`).
 * Example SecRule: SecRule &ARGS "@lt 255" "id:1,phase:2,t:none,deny"
 */
import { MATCH_WITHOUT_CAPTURE } from './match-result.js'
import { atollFast } from './numeric.js'
import type { OperatorFactory } from './operator.js'

export const lt: OperatorFactory = (param) => {
  const limit = atollFast(param)
  return (input) => (atollFast(input) < limit ? MATCH_WITHOUT_CAPTURE : null)
}
