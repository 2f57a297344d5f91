/**
 * Description: encodes each byte as two lowercase hex digits (`AB` → `4142`).
 * Arguments: none.
 * Example SecRule: SecRule ARGS:x "@streq 414243" "id:1,phase:2,t:none,t:hexEncode,pass"
 */
export function hexEncode(input: string): string {
  return Buffer.from(input, 'latin1').toString('hex')
}
