/**
 * Decoded views of Base64-encoded argument values. An application that Base64-decodes a parameter
 * before using it (tokens, "state", serialized filters, path segments) gets an injection that no
 * rule saw when the WAF inspects only the encoded text. A value whose whole text is Base64 (standard
 * or URL-safe alphabet, padding optional, a space read as `+`) and that decodes to printable UTF-8
 * text containing at least one character other than letters, digits and spaces is offered to the
 * rules a second time, decoded (NUL bytes left out). Random tokens and binary data decode to non-printable bytes and are
 * not offered, nor is plain prose (it carries no syntax an injection needs).
 *
 * Input and output are byte strings (one char per byte). Never throws.
 */
import { isUtf8 } from 'node:buffer'

const SHAPE = /^[A-Za-z0-9+/_ -]{8,}={0,2}$/

/** Values longer than this are not decoded (a body-sized value is not a token). */
export const BASE64_VIEW_MAX = 64 * 1024

/** The decoded text of `value` when it is a Base64 encoding of printable text with syntax in it. */
export function base64View(value: string): string | undefined {
  if (value.length < 8 || value.length > BASE64_VIEW_MAX || !SHAPE.test(value)) return undefined
  const body = value.replace(/=+$/, '')
  if (body.length % 4 === 1) return undefined
  // Letters only (a word, a name) is Base64-shaped too; real encodings mix in digits or case.
  if (/^[a-z]+$/.test(body) || /^[A-Z]+$/.test(body)) return undefined
  const bytes = Buffer.from(body.replace(/ /g, '+').replace(/-/g, '+').replace(/_/g, '/'), 'base64')
  if (bytes.length < 4) return undefined
  // Printable (no control bytes but tab, CR, LF), with some syntax in it; random bytes fail at once.
  let high = false
  let syntax = false
  let nul = false
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!
    if (b >= 0x80) high = true
    else if (b === 0) nul = true
    else if (b < 0x20 ? b !== 0x09 && b !== 0x0a && b !== 0x0d : b === 0x7f) return undefined
    else if (!syntax && !isWordByte(b)) syntax = true
  }
  if (high) {
    // Most random bytes are not UTF-8: a check that allocates nothing and throws nothing.
    if (!isUtf8(bytes)) return undefined
    if (!/[^\p{L}\p{N} ]/u.test(bytes.toString('utf8'))) return undefined
  } else if (!syntax) return undefined
  // NUL bytes split keywords (`<scr\0ipt>`) for a filter while the application's C string or browser drops
  // them: the view is the text without them.
  const text = bytes.toString('latin1')
  return nul ? text.replace(/\0/g, '') : text
}

/** ASCII letters, digits and the space. */
function isWordByte(b: number): boolean {
  return b === 0x20 || (b >= 0x30 && b <= 0x39) || ((b | 0x20) >= 0x61 && (b | 0x20) <= 0x7a)
}
