/**
 * Decoded views of Base64-encoded argument values. An application that Base64-decodes a parameter
 * before using it (tokens, "state", serialized filters, path segments) gets an injection that no
 * rule saw when the WAF inspects only the encoded text. A value whose whole text is Base64 (standard
 * or URL-safe alphabet, padding optional, a space read as `+`) and that decodes to printable UTF-8
 * text containing at least one character other than letters, digits and spaces is offered to the
 * rules a second time, decoded. Random tokens and binary data decode to non-printable bytes and are
 * not offered, nor is plain prose (it carries no syntax an injection needs).
 *
 * Input and output are byte strings (one char per byte). Never throws.
 */

const SHAPE = /^[A-Za-z0-9+/_ -]{8,}={0,2}$/
const utf8 = new TextDecoder('utf-8', { fatal: true })

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
  let text: string
  try {
    text = utf8.decode(bytes)
  } catch {
    return undefined
  }
  // Printable: no control characters other than tab, CR and LF.
  if (text.length < 4 || /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(text)) return undefined
  if (!/[^\p{L}\p{N} ]/u.test(text)) return undefined
  return bytes.toString('latin1')
}
