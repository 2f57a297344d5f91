/**
 * Description: decodes JavaScript escapes as ModSecurity does: `\uHHHH` (low byte only, with
 * full-width `\uff01`-`\uff5e` mapped back to ASCII), `\xHH`, octal `\OOO` (at most 3 digits, and only
 * 2 when the first is above 3, so one byte), `\a \b \f \n \r \t \v`, and `\C` → `C` for any other
 * character. A trailing lone backslash is kept.
 * Arguments: none.
 * Example SecRule: SecRule ARGS "@rx alert\(" "id:1,phase:2,t:none,t:jsDecode,deny"
 */
import { isHexDigit, isOctalDigit, latin1, x2c } from './bytes.js'

const SIMPLE: Readonly<Record<number, number>> = {
  0x61: 0x07, // \a
  0x62: 0x08, // \b
  0x66: 0x0c, // \f
  0x6e: 0x0a, // \n
  0x72: 0x0d, // \r
  0x74: 0x09, // \t
  0x76: 0x0b, // \v
}

export function jsDecode(input: string): string {
  if (!input.includes('\\')) return input
  const n = input.length
  const out = new Uint8Array(n)
  let o = 0
  let i = 0
  while (i < n) {
    const c = input.charCodeAt(i)
    if (c !== 0x5c) {
      out[o++] = c
      i++
      continue
    }
    const c1 = i + 1 < n ? input.charCodeAt(i + 1) : -1
    if (
      i + 5 < n &&
      c1 === 0x75 &&
      isHexDigit(input.charCodeAt(i + 2)) &&
      isHexDigit(input.charCodeAt(i + 3)) &&
      isHexDigit(input.charCodeAt(i + 4)) &&
      isHexDigit(input.charCodeAt(i + 5))
    ) {
      let b = x2c(input.charCodeAt(i + 4), input.charCodeAt(i + 5))
      if (
        b > 0x00 &&
        b < 0x5f &&
        (input.charCodeAt(i + 2) | 0x20) === 0x66 &&
        (input.charCodeAt(i + 3) | 0x20) === 0x66
      )
        b += 0x20
      out[o++] = b
      i += 6
    } else if (
      i + 3 < n &&
      c1 === 0x78 &&
      isHexDigit(input.charCodeAt(i + 2)) &&
      isHexDigit(input.charCodeAt(i + 3))
    ) {
      out[o++] = x2c(input.charCodeAt(i + 2), input.charCodeAt(i + 3))
      i += 4
    } else if (c1 !== -1 && isOctalDigit(c1)) {
      let j = 1
      while (j < 3 && i + 1 + j < n && isOctalDigit(input.charCodeAt(i + 1 + j))) j++
      if (j === 3 && c1 > 0x33) j = 2
      out[o++] = parseInt(input.slice(i + 1, i + 1 + j), 8) & 0xff
      i += 1 + j
    } else if (c1 !== -1) {
      out[o++] = SIMPLE[c1] ?? c1
      i += 2
    } else {
      out[o++] = c
      i++
    }
  }
  return latin1(out, o)
}
