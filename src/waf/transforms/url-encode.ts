/**
 * Description: URL-encodes the input like ModSecurity: a space becomes `+`; `*`, digits and ASCII
 * letters stay; every other byte becomes `%hh` (lowercase hex).
 * Arguments: none.
 * Example SecRule: SecRule ARGS:q "@streq a+b%2fc" "id:1,phase:2,t:none,t:urlEncode,pass"
 */
import { byteToHex } from './bytes.js'

export function urlEncode(input: string): string {
  let out = ''
  for (let i = 0; i < input.length; i++) {
    const c = input.charCodeAt(i)
    if (c === 0x20) out += '+'
    else if (c === 0x2a || (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a))
      out += input[i]
    else out += '%' + byteToHex(c & 0xff)
  }
  return out
}
