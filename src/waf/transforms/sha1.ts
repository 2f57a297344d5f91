/**
 * Description: the SHA-1 digest of the input, as 20 raw bytes (a byte string), like ModSecurity.
 * Combine with t:hexEncode to compare against a hex digest.
 * Arguments: none.
 * Example SecRule: SecRule ARGS:key "@streq 356a192b7913b04c54574d18c28d46e6395428ab" "id:1,phase:2,t:none,t:sha1,t:hexEncode,pass"
 */
import { createHash } from 'node:crypto'
import { createDigestMemo } from './digest-memo.js'

const remembered = createDigestMemo()

export function sha1(input: string): string {
  return remembered(input, (s) => createHash('sha1').update(s, 'latin1').digest().toString('latin1'))
}
