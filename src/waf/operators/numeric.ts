/**
 * How ModSecurity v3 turns operands into numbers. Values are byte strings read up to a NUL byte (C
 * strings). Non-numeric text is 0, never an error.
 */

const LEADING = /^[ \t\n\v\f\r]*([+-]?)(\d+)/
const INT_MIN = -2147483648n
const INT_MAX = 2147483647n
const LLONG_MIN = -9223372036854775808n
const LLONG_MAX = 9223372036854775807n

function cString(s: string): string {
  const nul = s.indexOf('\x00')
  return nul === -1 ? s : s.slice(0, nul)
}

function leadingInteger(s: string): bigint | undefined {
  const m = LEADING.exec(cString(s))
  if (m === null) return undefined
  const value = BigInt(m[2]!)
  return m[1] === '-' ? -value : value
}

/** `std::stoi` as @eq uses it: leading integer; no digits or outside 32-bit range → 0. */
export function stoi(s: string): number {
  const v = leadingInteger(s)
  if (v === undefined || v < INT_MIN || v > INT_MAX) return 0
  return Number(v)
}

/** `atoll` as @lt/@le/@gt/@ge use it: leading integer, no digits → 0, clamped to 64 bits. */
export function atoll(s: string): bigint {
  const v = leadingInteger(s)
  if (v === undefined) return 0n
  return v < LLONG_MIN ? LLONG_MIN : v > LLONG_MAX ? LLONG_MAX : v
}

/**
 * A number for comparisons: a plain `number` when it is exact, which is the usual case and avoids
 * BigInt arithmetic on every request.
 */
export function atollFast(s: string): number | bigint {
  // Short pure-digit strings (the common case: lengths, counts, scores) skip the regex.
  if (s.length > 0 && s.length < 16) {
    let v = 0
    let k = 0
    for (; k < s.length; k++) {
      const c = s.charCodeAt(k)
      if (c < 0x30 || c > 0x39) break
      v = v * 10 + (c - 0x30)
    }
    if (k === s.length) return v
  }
  const big = atoll(s)
  return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big
}
