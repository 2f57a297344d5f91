/**
 * Description: replaces each C-style comment `/* ... *\/` with one space. An unterminated comment
 * runs to the end of the input and also becomes one space. A lone `*\/` is kept.
 * Arguments: none.
 * Example SecRule: SecRule ARGS "@rx union select" "id:1,phase:2,t:none,t:replaceComments,deny"
 */
export function replaceComments(input: string): string {
  let start = input.indexOf('/*')
  if (start === -1) return input
  let out = ''
  let from = 0
  while (start !== -1) {
    out += input.slice(from, start) + ' '
    const close = input.indexOf('*/', start + 2)
    if (close === -1) return out
    from = close + 2
    start = input.indexOf('/*', from)
  }
  return out + input.slice(from)
}
