/**
 * Description: removes comments as ModSecurity's removeComments does: `/* ... *\/` and `<!-- ... -->`
 * are deleted, and `--` or `#` outside a comment cuts the rest of the input off. An unterminated
 * comment becomes one space. ModSecurity quirks kept on purpose: the byte right after a closing
 * `*\/` or `-->` is copied without being examined, and when the comment closes at the very end of the
 * input that copy is a NUL byte (ModSecurity copies its C string terminator).
 * Arguments: none.
 * Example SecRule: SecRule ARGS "@rx union select" "id:1,phase:2,t:none,t:removeComments,deny"
 */
const TRIGGER = /\/\*|<!--|--|#/

export function removeComments(input: string): string {
  if (!TRIGGER.test(input)) return input
  const n = input.length
  let out = ''
  let inComment = false
  let i = 0
  while (i < n) {
    const c = input.charCodeAt(i)
    const c1 = i + 1 < n ? input.charCodeAt(i + 1) : -1
    if (!inComment) {
      if (c === 0x2f && c1 === 0x2a) {
        inComment = true
        i += 2
      } else if (c === 0x3c && c1 === 0x21 && input.startsWith('--', i + 2)) {
        inComment = true
        i += 4
      } else if ((c === 0x2d && c1 === 0x2d) || c === 0x23) {
        break
      } else {
        out += input[i]
        i++
      }
    } else if (c === 0x2a && c1 === 0x2f) {
      inComment = false
      i += 2
      out += i < n ? input[i] : '\x00'
      i++
    } else if (c === 0x2d && c1 === 0x2d && i + 2 < n && input.charCodeAt(i + 2) === 0x3e) {
      inComment = false
      i += 3
      out += i < n ? input[i] : '\x00'
      i++
    } else {
      i++
    }
  }
  return inComment ? out + ' ' : out
}
