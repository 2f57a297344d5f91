/**
 * Description: matches when the input (bytes) is not valid UTF-8, as ModSecurity checks it: a
 * truncated sequence, a bad continuation byte, a lead byte 0x80-0xbf or 0xf5-0xff, an overlong form,
 * or an encoded surrogate (U+D800-U+DFFF). Like ModSecurity it accepts 4-byte sequences led by 0xf4
 * up to U+13FFFF. ASCII input never matches.
 * Arguments: none.
 * Example SecRule: SecRule ARGS "@validateUtf8Encoding" "id:1,phase:2,t:none,deny"
 */
import { MATCH_WITHOUT_CAPTURE } from './match-result.js'
import type { OperatorFactory } from './operator.js'

const NON_ASCII = /[\x80-\xff]/

export function isValidUtf8(input: string): boolean {
  const n = input.length
  const cont = (k: number): boolean => k < n && (input.charCodeAt(k) & 0xc0) === 0x80
  let i = 0
  while (i < n) {
    const c = input.charCodeAt(i)
    if ((c & 0x80) === 0) {
      i++
      continue
    }
    let len: number
    let d: number
    if ((c & 0xe0) === 0xc0) {
      if (!cont(i + 1)) return false
      len = 2
      d = ((c & 0x1f) << 6) | (input.charCodeAt(i + 1) & 0x3f)
      if (d < 0x80) return false
    } else if ((c & 0xf0) === 0xe0) {
      if (!cont(i + 1) || !cont(i + 2)) return false
      len = 3
      d = ((c & 0x0f) << 12) | ((input.charCodeAt(i + 1) & 0x3f) << 6) | (input.charCodeAt(i + 2) & 0x3f)
      if (d < 0x800) return false
    } else if ((c & 0xf8) === 0xf0) {
      if (c >= 0xf5) return false
      if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return false
      len = 4
      d =
        ((c & 0x07) << 18) |
        ((input.charCodeAt(i + 1) & 0x3f) << 12) |
        ((input.charCodeAt(i + 2) & 0x3f) << 6) |
        (input.charCodeAt(i + 3) & 0x3f)
      if (d < 0x10000) return false
    } else {
      return false
    }
    if (d >= 0xd800 && d <= 0xdfff) return false
    i += len
  }
  return true
}

export const validateUtf8Encoding: OperatorFactory = () => (input) =>
  NON_ASCII.test(input) && !isValidUtf8(input) ? MATCH_WITHOUT_CAPTURE : null
