/**
 * Description: removes whitespace (C `isspace`: space, \t, \n, \v, \f, \r) from the start.
 * Arguments: none.
 * Example SecRule: SecRule ARGS:x "@beginsWith admin" "id:1,phase:2,t:none,t:trimLeft,pass"
 */
import { isSpace } from './bytes.js'

export function trimLeft(input: string): string {
  let i = 0
  while (i < input.length && isSpace(input.charCodeAt(i))) i++
  return i === 0 ? input : input.slice(i)
}
