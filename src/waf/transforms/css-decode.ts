/**
 * Description: decodes CSS escapes (CSS 2.x) as ModSecurity does: `\` followed by 1-6 hex digits
 * becomes one byte (the last two digits; full-width `\ff01`-`\ff5e` mapped back to ASCII when the
 * escape is 4 digits, or 5-6 digits with leading zeros), and one whitespace after a hex escape is
 * swallowed. `\` + newline is removed, `\` + any other character gives that character, a trailing
 * lone `\` is removed.
 * Arguments: none.
 * Example SecRule: SecRule ARGS "@rx expression\(" "id:1,phase:2,t:none,t:cssDecode,deny"
 */
import { isHexDigit, isSpace, latin1, x2c, xsingle2c } from './bytes.js'

export function cssDecode(input: string): string {
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
    if (i + 1 >= n) {
      i++ // continuation to nothing
      continue
    }
    i++
    let j = 0
    while (j < 6 && i + j < n && isHexDigit(input.charCodeAt(i + j))) j++
    if (j > 0) {
      const at = (k: number): number => input.charCodeAt(i + k)
      let b: number
      let fullCheck = false
      if (j === 1) b = xsingle2c(at(0))
      else b = x2c(at(j - 2), at(j - 1))
      if (j === 4) fullCheck = true
      else if (j === 5 && at(0) === 0x30) fullCheck = true
      else if (j === 6 && at(0) === 0x30 && at(1) === 0x30) fullCheck = true
      if (fullCheck && b > 0x00 && b < 0x5f && (at(j - 3) | 0x20) === 0x66 && (at(j - 4) | 0x20) === 0x66)
        b += 0x20
      out[o++] = b
      if (i + j < n && isSpace(input.charCodeAt(i + j))) j++
      i += j
    } else if (input.charCodeAt(i) === 0x0a) {
      i++
    } else {
      out[o++] = input.charCodeAt(i++)
    }
  }
  return latin1(out, o)
}
