/**
 * Description: removes whitespace (C `isspace`: space, \t, \n, \v, \f, \r) from both ends.
 * String#trim is not used: it also strips 0xa0 and Unicode spaces.
 * Arguments: none.
 * Example SecRule: SecRule ARGS:x "@streq admin" "id:1,phase:2,t:none,t:trim,pass"
 */
import { trimLeft } from './trim-left.js'
import { trimRight } from './trim-right.js'

export function trim(input: string): string {
  return trimRight(trimLeft(input))
}
