/**
 * Description: removes the comment markers themselves, not the text between them: `/*`, `*\/`,
 * `<!--`, `-->`, `--` and `#` are deleted wherever they occur.
 * Arguments: none.
 * Example SecRule: SecRule ARGS "@rx unionselect" "id:1,phase:2,t:none,t:removeCommentsChar,deny"
 */
// Alternation order matters: `-->` before `--`, as in ModSecurity's left-to-right scan.
const MARKERS = /\/\*|\*\/|<!--|-->|--|#/g

export function removeCommentsChar(input: string): string {
  return input.replace(MARKERS, '')
}
