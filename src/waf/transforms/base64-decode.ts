/**
 * Description: decodes Base64 strictly, as ModSecurity v3 does (it calls mbedTLS): the input is read
 * up to the first NUL byte; line breaks and spaces at line ends are allowed; any other character
 * outside the alphabet, a space inside a line, `=` followed by data, or more than two `=` makes the
 * result empty. A trailing group of fewer than 4 characters is dropped. (ModSecurity v2 skipped
 * invalid characters instead; use base64DecodeExt for that forgiving behaviour.)
 * Arguments: none.
 * Example SecRule: SecRule REQUEST_HEADERS:Authorization "@rx ^admin:" "id:1,phase:1,t:none,t:base64Decode,pass"
 */
import { latin1 } from './bytes.js'

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
const INVALID = 127
const PAD = 64
const DECODE: Uint8Array = (() => {
  const map = new Uint8Array(256).fill(INVALID)
  for (let k = 0; k < ALPHABET.length; k++) map[ALPHABET.charCodeAt(k)] = k
  map[0x3d] = PAD
  return map
})()

export function base64Decode(input: string): string {
  const nul = input.indexOf('\x00')
  const src = nul === -1 ? input : input.slice(0, nul)
  const n = src.length
  // First pass (as mbedtls_base64_decode): validate and count.
  let count = 0
  let pads = 0
  for (let i = 0; i < n; i++) {
    let spaces = 0
    while (i < n && src.charCodeAt(i) === 0x20) {
      i++
      spaces++
    }
    if (i === n) break
    const c = src.charCodeAt(i)
    if (c === 0x0d && i + 1 < n && src.charCodeAt(i + 1) === 0x0a) continue
    if (c === 0x0a) continue
    if (spaces !== 0) return ''
    if (c === 0x3d && ++pads > 2) return ''
    const v = c > 127 ? INVALID : DECODE[c]!
    if (v === INVALID) return ''
    if (v < 64 && pads !== 0) return ''
    count++
  }
  if (count === 0) return ''
  const out = new Uint8Array(Math.ceil((count * 6) / 8))
  let o = 0
  let keep = 3
  let acc = 0
  let inGroup = 0
  for (let i = 0; i < n; i++) {
    const c = src.charCodeAt(i)
    if (c === 0x0d || c === 0x0a || c === 0x20) continue
    const v = DECODE[c]!
    if (v === PAD) keep--
    acc = ((acc << 6) | (v & 0x3f)) & 0xffffff
    if (++inGroup === 4) {
      inGroup = 0
      if (keep > 0) out[o++] = acc >> 16
      if (keep > 1) out[o++] = (acc >> 8) & 0xff
      if (keep > 2) out[o++] = acc & 0xff
    }
  }
  return latin1(out, o)
}
