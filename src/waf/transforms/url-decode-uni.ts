/**
 * Description: urlDecode plus IIS-style `%uHHHH`. Like ModSecurity without a SecUnicodeMapFile, a
 * `%uHHHH` escape becomes its low byte (`%u0041` → `A`), and full-width ASCII `%uff01`-`%uff5e` gets
 * 0x20 added back (`%uff1c` → `<`). An invalid `%u` escape keeps the `%u` and decoding resumes after it.
 * `+` becomes a space. Invalid `%HH` escapes are kept as they are.
 * Arguments: none.
 * Example SecRule: SecRule ARGS "@rx <script" "id:1,phase:2,t:none,t:urlDecodeUni,deny"
 */
import { isHexDigit, latin1, x2c } from './bytes.js'

const TRIGGER = /[%+]/

export function urlDecodeUni(input: string): string {
  if (!TRIGGER.test(input)) return input
  const n = input.length
  const out = new Uint8Array(n)
  let o = 0
  let i = 0
  while (i < n) {
    const c = input.charCodeAt(i)
    if (c === 0x25) {
      const next = i + 1 < n ? input.charCodeAt(i + 1) : -1
      if (next === 0x75 || next === 0x55) {
        if (
          i + 5 < n &&
          isHexDigit(input.charCodeAt(i + 2)) &&
          isHexDigit(input.charCodeAt(i + 3)) &&
          isHexDigit(input.charCodeAt(i + 4)) &&
          isHexDigit(input.charCodeAt(i + 5))
        ) {
          let b = x2c(input.charCodeAt(i + 4), input.charCodeAt(i + 5))
          const h1 = input.charCodeAt(i + 2) | 0x20
          const h2 = input.charCodeAt(i + 3) | 0x20
          if (b > 0x00 && b < 0x5f && h1 === 0x66 && h2 === 0x66) b += 0x20
          out[o++] = b
          i += 6
        } else {
          // Invalid or truncated %u: copy "%u" and go on after it.
          out[o++] = c
          out[o++] = next
          i += 2
        }
        continue
      }
      if (i + 2 < n) {
        const c1 = input.charCodeAt(i + 1)
        const c2 = input.charCodeAt(i + 2)
        if (isHexDigit(c1) && isHexDigit(c2)) {
          out[o++] = x2c(c1, c2)
          i += 3
          continue
        }
      }
      out[o++] = c
      i++
      continue
    }
    out[o++] = c === 0x2b ? 0x20 : c
    i++
  }
  return latin1(out, o)
}
