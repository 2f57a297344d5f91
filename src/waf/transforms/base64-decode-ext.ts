/**
 * Description: forgiving Base64 decoding (ModSecurity's decode_forgiven, after PHP's base64_decode):
 * characters outside the alphabet are skipped, `-` and `_` count as `+` and `/` (URL-safe
 * alphabet), `=` is ignored, and complete bytes are emitted as soon as they are known. As in
 * ModSecurity the result is empty when a `=` follows a lone sextet (not followed by another `=`), or
 * when the input ends on a lone sextet and its last character is `=` or `9` (a ModSecurity quirk:
 * the decoded value 61 of `9` equals the code of `=`).
 * Arguments: none.
 * Example SecRule: SecRule ARGS:token "@rx <script" "id:1,phase:2,t:none,t:base64DecodeExt,deny"
 */
import { latin1 } from './bytes.js'

const REVERSE: Int8Array = (() => {
  const map = new Int8Array(256).fill(-1)
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
  for (let k = 0; k < alphabet.length; k++) map[alphabet.charCodeAt(k)] = k
  map[0x2d] = 62 // -
  map[0x5f] = 63 // _
  return map
})()

export function base64DecodeExt(input: string): string {
  const n = input.length
  const out = new Uint8Array(Math.ceil((n * 3) / 4) + 1)
  let sextets = 0
  let o = 0
  let last = 0
  for (let i = 0; i < n; i++) {
    const c = input.charCodeAt(i)
    if (c === 0x3d) {
      last = c
      if (sextets % 4 === 1 && input.charCodeAt(i + 1) !== 0x3d) return ''
      continue
    }
    const v = REVERSE[c & 0xff]!
    last = v
    if (v < 0) continue
    switch (sextets % 4) {
      case 0:
        out[o] = v << 2
        break
      case 1:
        out[o++]! |= v >> 4
        out[o] = (v & 0x0f) << 4
        break
      case 2:
        out[o++]! |= v >> 2
        out[o] = (v & 0x03) << 6
        break
      default:
        out[o++]! |= v
    }
    sextets++
  }
  if (last === 0x3d && sextets % 4 === 1) return ''
  return latin1(out, o)
}
