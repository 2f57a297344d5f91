/**
 * application/x-www-form-urlencoded (and the query string), split and decoded as ModSecurity does:
 * `&` separates arguments, the first `=` separates name and value, `+` is a space, a valid `%XX` is a
 * byte and an invalid `%` sequence is kept as is. An empty piece (`a=1&&b=2`) yields nothing.
 * Input and output are byte strings.
 */

export interface Pair {
  readonly key: string
  readonly value: string
}

function hex(c: number): number {
  if (c >= 48 && c <= 57) return c - 48
  const l = c | 0x20
  if (l >= 97 && l <= 102) return l - 87
  return -1
}

/** ModSecurity's non-strict URL decoding (`urldecode_nonstrict_inplace`). */
export function urlDecodeNonStrict(s: string): string {
  if (s.indexOf('%') < 0 && s.indexOf('+') < 0) return s
  let out = ''
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 43) {
      out += ' '
    } else if (c === 37 && i + 2 < s.length + 0 && i + 2 <= s.length - 1) {
      const h = hex(s.charCodeAt(i + 1))
      const l = hex(s.charCodeAt(i + 2))
      if (h >= 0 && l >= 0) {
        out += String.fromCharCode(h * 16 + l)
        i += 2
      } else out += '%'
    } else out += s[i]
  }
  return out
}

/** Splits `a=1&b=2` into decoded pairs. Stops adding after `limit` pairs and reports it. */
export function parseUrlEncoded(text: string, limit = Infinity): { pairs: Pair[]; truncated: boolean } {
  const pairs: Pair[] = []
  let truncated = false
  let start = 0
  while (start <= text.length) {
    let end = text.indexOf('&', start)
    if (end < 0) end = text.length
    if (end > start) {
      if (pairs.length >= limit) {
        truncated = true
        break
      }
      const piece = text.slice(start, end)
      const eq = piece.indexOf('=')
      if (eq < 0) pairs.push({ key: urlDecodeNonStrict(piece), value: '' })
      else
        pairs.push({
          key: urlDecodeNonStrict(piece.slice(0, eq)),
          value: urlDecodeNonStrict(piece.slice(eq + 1)),
        })
    }
    start = end + 1
  }
  return { pairs, truncated }
}
