/**
 * Description: replaces the input with its length in bytes, in decimal.
 * Arguments: none.
 * Example SecRule: SecRule ARGS "@gt 400" "id:1,phase:2,t:none,t:length,deny"
 */
export function length(input: string): string {
  return String(input.length)
}
