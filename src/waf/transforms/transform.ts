/**
 * A transformation takes a byte string and returns a byte string.
 *
 * Byte string: a JS string whose every code unit is 0..255 (what `Buffer#toString('latin1')`
 * gives). The WAF works on bytes, as ModSecurity does, so that `[\x80-\xff]` in a CRS pattern and
 * `t:utf8toUnicode` see the same thing they see in ModSecurity.
 */
export type Transform = (input: string) => string
