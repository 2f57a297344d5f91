/**
 * Description: removes whitespace (C `isspace`: space, \t, \n, \v, \f, \r) from the end.
 * Arguments: none.
 * Example SecRule: SecRule ARGS:x "@endsWith admin" "id:1,phase:2,t:none,t:trimRight,pass"
 */
import { isSpace } from './bytes.js'

export function trimRight(input: string): string {
  let j = input.length
  while (j > 0 && isSpace(input.charCodeAt(j - 1))) j--
  return j === input.length ? input : input.slice(0, j)
}
