/**
 * Description: decodes SQL hex literals: `0x` (or `0X`) followed by hex pairs becomes those bytes
 * (`0x414243` → `ABC`); a trailing odd digit is kept, and `0x` without a pair after it is kept as is.
 * Everything else is copied. ModSecurity v3 also stops at the first NUL byte and (through an
 * off-by-one) drops the last input byte; Palisade does neither, so that a value is never shortened.
 * Arguments: none.
 * Example SecRule: SecRule ARGS "@rx union select" "id:1,phase:2,t:none,t:sqlHexDecode,deny"
 */
import { isHexDigit, x2c } from './bytes.js'

const LITERAL = /0[xX]((?:[0-9a-fA-F]{2})+)/g

export function sqlHexDecode(input: string): string {
  if (!input.includes('0x') && !input.includes('0X')) return input
  return input.replace(LITERAL, (_whole, digits: string) => {
    let out = ''
    for (let k = 0; k + 1 < digits.length; k += 2) {
      const hi = digits.charCodeAt(k)
      const lo = digits.charCodeAt(k + 1)
      if (isHexDigit(hi) && isHexDigit(lo)) out += String.fromCharCode(x2c(hi, lo))
    }
    return out
  })
}
