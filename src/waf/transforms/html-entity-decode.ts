/**
 * Description: decodes HTML entities as ModSecurity does: `&#DDD;`, `&#xHH;` (the value is cut to
 * one byte), and the named entities `&quot;` `&amp;` `&lt;` `&gt;` `&nbsp;` (→ 0xa0), names matched
 * case-insensitively. The semicolon is optional (`&lt` and `&#60` decode too). Other names and
 * entities without digits are kept as they are.
 * Arguments: none.
 * Example SecRule: SecRule ARGS "@rx <script" "id:1,phase:2,t:none,t:htmlEntityDecode,deny"
 */
import { isAlnum, isDigit, isHexDigit, latin1 } from './bytes.js'

const NAMED: ReadonlyMap<string, number> = new Map([
  ['quot', 0x22],
  ['amp', 0x26],
  ['lt', 0x3c],
  ['gt', 0x3e],
  ['nbsp', 0xa0],
])

// strtol() clamps to LONG_MAX on overflow and ModSecurity keeps the low byte of that: 0xff.
function numericByte(digits: string, radix: 16 | 10): number {
  // Up to 12 digits is exact as a double; longer runs (rare, hostile) take the BigInt path.
  if (digits.length <= 12) return parseInt(digits, radix) & 0xff
  const value = BigInt(radix === 16 ? '0x' + digits : digits)
  return value > 0x7fffffffffffffffn ? 0xff : Number(value & 0xffn)
}

export function htmlEntityDecode(input: string): string {
  if (!input.includes('&')) return input
  const n = input.length
  const out = new Uint8Array(n)
  let o = 0
  let i = 0
  while (i < n) {
    let copy = 1
    if (input.charCodeAt(i) === 0x26 && i + 1 < n) {
      let j = i + 1
      if (input.charCodeAt(j) === 0x23) {
        copy++
        if (j + 1 < n) {
          j++
          const x = input.charCodeAt(j)
          const hex = x === 0x78 || x === 0x58
          let ok = true
          if (hex) {
            copy++
            if (j + 1 < n) j++
            else ok = false
          }
          if (ok) {
            const k = j
            while (j < n && (hex ? isHexDigit(input.charCodeAt(j)) : isDigit(input.charCodeAt(j)))) j++
            if (j > k) {
              out[o++] = numericByte(input.slice(k, j), hex ? 16 : 10)
              i = j < n && input.charCodeAt(j) === 0x3b ? j + 1 : j
              continue
            }
          }
        }
      } else {
        const k = j
        while (j < n && isAlnum(input.charCodeAt(j))) j++
        if (j > k) {
          const byte = NAMED.get(input.slice(k, j).toLowerCase())
          if (byte !== undefined) {
            out[o++] = byte
            i = j < n && input.charCodeAt(j) === 0x3b ? j + 1 : j
            continue
          }
          copy = j - k + 1
        }
      }
    }
    for (let z = 0; z < copy && i < n; z++) out[o++] = input.charCodeAt(i++)
  }
  return latin1(out, o)
}
