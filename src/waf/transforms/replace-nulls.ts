/**
 * Description: replaces every NUL byte (0x00) with a space.
 * Arguments: none.
 * Example SecRule: SecRule ARGS "@rx <script" "id:1,phase:2,t:none,t:replaceNulls,deny"
 */
const NUL = /\x00/g

export function replaceNulls(input: string): string {
  return input.includes('\x00') ? input.replace(NUL, ' ') : input
}
