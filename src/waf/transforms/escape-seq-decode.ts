/**
 * Description: decodes ANSI C escape sequences: `\a \b \f \n \r \t \v \\ \? \' \"`, `\xHH` (also
 * `\XHH`) and octal `\O` to `\OOO` (the value is cut to one byte). For any other escape the backslash
 * is dropped and the next character kept; an invalid `\x` escape gives `x`. A trailing lone `\` is kept.
 * Arguments: none.
 * Example SecRule: SecRule ARGS "@rx /bin/sh" "id:1,phase:2,t:none,t:escapeSeqDecode,deny"
 */
import { isHexDigit, isOctalDigit, latin1, x2c } from './bytes.js'

const SIMPLE: Readonly<Record<number, number>> = {
  0x61: 0x07,
  0x62: 0x08,
  0x66: 0x0c,
  0x6e: 0x0a,
  0x72: 0x0d,
  0x74: 0x09,
  0x76: 0x0b,
  0x5c: 0x5c,
  0x3f: 0x3f,
  0x27: 0x27,
  0x22: 0x22,
}

export function escapeSeqDecode(input: string): string {
  if (!input.includes('\\')) return input
  const n = input.length
  const out = new Uint8Array(n)
  let o = 0
  let i = 0
  while (i < n) {
    const c = input.charCodeAt(i)
    if (c !== 0x5c || i + 1 >= n) {
      out[o++] = c
      i++
      continue
    }
    const c1 = input.charCodeAt(i + 1)
    const simple = SIMPLE[c1]
    if (simple !== undefined) {
      out[o++] = simple
      i += 2
    } else if (
      (c1 === 0x78 || c1 === 0x58) &&
      i + 3 < n &&
      isHexDigit(input.charCodeAt(i + 2)) &&
      isHexDigit(input.charCodeAt(i + 3))
    ) {
      out[o++] = x2c(input.charCodeAt(i + 2), input.charCodeAt(i + 3))
      i += 4
    } else if (isOctalDigit(c1)) {
      let j = 1
      while (j < 3 && i + 1 + j < n && isOctalDigit(input.charCodeAt(i + 1 + j))) j++
      out[o++] = parseInt(input.slice(i + 1, i + 1 + j), 8) & 0xff
      i += 1 + j
    } else {
      out[o++] = c1
      i += 2
    }
  }
  return latin1(out, o)
}
