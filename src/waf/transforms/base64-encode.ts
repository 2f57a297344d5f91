/**
 * Description: encodes the input bytes as Base64 (standard alphabet, with `=` padding).
 * Arguments: none.
 * Example SecRule: SecRule ARGS:x "@streq YWJj" "id:1,phase:2,t:none,t:base64Encode,pass"
 */
export function base64Encode(input: string): string {
  return Buffer.from(input, 'latin1').toString('base64')
}
