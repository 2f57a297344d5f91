/**
 * Description: the MD5 digest of the input, as 16 raw bytes (a byte string), like ModSecurity.
 * Combine with t:hexEncode to compare against a hex digest.
 * Arguments: none.
 * Example SecRule: SecRule ARGS:key "@streq c4ca4238a0b923820dcc509a6f75849b" "id:1,phase:2,t:none,t:md5,t:hexEncode,pass"
 */
import { createHash } from 'node:crypto'
import { createDigestMemo } from './digest-memo.js'

const remembered = createDigestMemo()

export function md5(input: string): string {
  return remembered(input, (s) => createHash('md5').update(s, 'latin1').digest().toString('latin1'))
}
