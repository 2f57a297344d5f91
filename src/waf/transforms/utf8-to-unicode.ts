/**
 * Description: rewrites each UTF-8 multi-byte sequence as `%uHHHH` (lowercase hex, at least 4
 * digits), so rules can match code points with plain ASCII patterns. ASCII bytes are copied, except
 * NUL bytes, which ModSecurity drops. Quirks kept from ModSecurity: a lead byte (0xc0-0xf7) whose
 * continuation bytes are missing or wrong is dropped; a stray continuation byte or 0xf8-0xff is
 * copied; an overlong form or a surrogate (U+D800-U+DFFF) is decoded and then followed by its lead
 * byte; a lead byte 0xf5-0xf7 is written before its decoding.
 * Arguments: none.
 * Example SecRule: SecRule ARGS "@rx %u2028" "id:1,phase:2,t:none,t:utf8toUnicode,deny"
 */
const HIGH = /[\x00\x80-\xff]/

function escape(code: number): string {
  const hex = code.toString(16)
  return '%u' + (hex.length < 4 ? '0000'.slice(hex.length) + hex : hex)
}

export function utf8toUnicode(input: string): string {
  if (!HIGH.test(input)) return input
  const n = input.length
  // Bytes past the end read as 0 (ModSecurity reads its NUL terminator), which is never a continuation.
  const at = (k: number): number => (k < n ? input.charCodeAt(k) : 0)
  const cont = (k: number): boolean => (at(k) & 0xc0) === 0x80
  let out = ''
  let i = 0
  while (i < n) {
    const c = input.charCodeAt(i)
    let len = 0
    let d = 0
    if ((c & 0x80) === 0) {
      if (c !== 0) out += input[i]
    } else if ((c & 0xe0) === 0xc0) {
      if (cont(i + 1)) {
        len = 2
        d = ((c & 0x1f) << 6) | (at(i + 1) & 0x3f)
        out += escape(d)
      }
    } else if ((c & 0xf0) === 0xe0) {
      if (cont(i + 1) && cont(i + 2)) {
        len = 3
        d = ((c & 0x0f) << 12) | ((at(i + 1) & 0x3f) << 6) | (at(i + 2) & 0x3f)
        out += escape(d)
      }
    } else if ((c & 0xf8) === 0xf0) {
      if (c >= 0xf5) out += input[i]
      if (cont(i + 1) && cont(i + 2) && cont(i + 3)) {
        len = 4
        d = ((c & 0x07) << 18) | ((at(i + 1) & 0x3f) << 12) | ((at(i + 2) & 0x3f) << 6) | (at(i + 3) & 0x3f)
        out += escape(d)
      }
    } else {
      out += input[i]
    }
    if (d >= 0xd800 && d <= 0xdfff) out += input[i]
    if ((len === 4 && d < 0x10000) || (len === 3 && d < 0x800) || (len === 2 && d < 0x80)) out += input[i]
    i += len > 0 ? len : 1
  }
  return out
}
