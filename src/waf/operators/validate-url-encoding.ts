/**
 * Description: matches when the input has an invalid URL encoding: a `%` not followed by two hex
 * digits, or cut off at the end (`%4`, a trailing `%`). An empty input never matches.
 * Arguments: none.
 * Example SecRule: SecRule REQUEST_URI "@validateUrlEncoding" "id:1,phase:1,t:none,deny"
 */
import { MATCH_WITHOUT_CAPTURE } from './match-result.js'
import type { OperatorFactory } from './operator.js'

const INVALID = /%(?![0-9a-fA-F]{2})/

export const validateUrlEncoding: OperatorFactory = () => (input) =>
  INVALID.test(input) ? MATCH_WITHOUT_CAPTURE : null
