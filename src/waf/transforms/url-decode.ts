/**
 * Description: decodes URL encoding: `%HH` becomes the byte HH and `+` becomes a space. An invalid or
 * truncated escape (`%zz`, `%4`, a lone `%`) is kept as it is, byte for byte, as in ModSecurity.
 * `%uHHHH` is not decoded here (see urlDecodeUni).
 * Arguments: none.
 * Example SecRule: SecRule REQUEST_URI "@rx \.\./" "id:1,phase:1,t:none,t:urlDecode,deny"
 */
import { isHexDigit, latin1, x2c } from './bytes.js'

const TRIGGER = /[%+]/

export function urlDecode(input: string): string {
  if (!TRIGGER.test(input)) return input
  const n = input.length
  const out = new Uint8Array(n)
  let o = 0
  let i = 0
  while (i < n) {
    const c = input.charCodeAt(i)
    if (c === 0x25 && i + 2 < n) {
      const c1 = input.charCodeAt(i + 1)
      const c2 = input.charCodeAt(i + 2)
      if (isHexDigit(c1) && isHexDigit(c2)) {
        out[o++] = x2c(c1, c2)
        i += 3
        continue
      }
    }
    out[o++] = c === 0x2b ? 0x20 : c
    i++
  }
  return latin1(out, o)
}
