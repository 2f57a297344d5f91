/**
 * Description: removes every NUL byte (0x00).
 * Arguments: none.
 * Example SecRule: SecRule ARGS "@rx <script" "id:1,phase:2,t:none,t:removeNulls,deny"
 */
const NULS = /\x00+/g

export function removeNulls(input: string): string {
  return input.includes('\x00') ? input.replace(NULS, '') : input
}
