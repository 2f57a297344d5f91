/**
 * Byte-level helpers shared by the transformations. Inputs are byte strings (code units 0..255);
 * the predicates follow the C locale that ModSecurity runs in (`isspace`, `isdigit`, ... are ASCII only).
 */

/** `isxdigit` / ModSecurity's VALID_HEX. */
export function isHexDigit(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)
}

/** ModSecurity's ISODIGIT: '0'..'7'. */
export function isOctalDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x37
}

export function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39
}

export function isAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)
}

/** C `isspace` in the C locale: space, \t, \n, \v, \f, \r. */
export function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d)
}

/**
 * ModSecurity's `x2c`: two hex digits to a byte. It does not validate its input (hexDecode relies
 * on that), so non-hex characters give the same wrapped-around value they give in C.
 */
export function x2c(hi: number, lo: number): number {
  const h = hi >= 0x41 ? (hi & 0xdf) - 0x41 + 10 : hi - 0x30
  const l = lo >= 0x41 ? (lo & 0xdf) - 0x41 + 10 : lo - 0x30
  return (h * 16 + l) & 0xff
}

/** ModSecurity's `xsingle2c`: one hex digit to a byte. */
export function xsingle2c(c: number): number {
  return (c >= 0x41 ? (c & 0xdf) - 0x41 + 10 : c - 0x30) & 0xff
}

/** The first `length` bytes of `buf` as a byte string. */
export function latin1(buf: Uint8Array, length: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset, length).toString('latin1')
}

/** A byte string as bytes. Code units above 0xff (never produced by the WAF) are truncated. */
export function toBytes(input: string): Buffer {
  return Buffer.from(input, 'latin1')
}

const HEX = '0123456789abcdef'

/** Lowercase two-digit hex of a byte (ModSecurity's c2x). */
export function byteToHex(c: number): string {
  return HEX[c >> 4]! + HEX[c & 0xf]!
}
