/**
 * Description: converts a-z to A-Z, ASCII letters only (C `toupper` in the C locale); bytes 0x80-0xff
 * stay as they are (String#toUpperCase would turn 0xff into U+0178 and 0xdf into "SS").
 * Arguments: none.
 * Example SecRule: SecRule REQUEST_METHOD "@streq POST" "id:1,phase:1,t:none,t:uppercase,pass"
 */
const NON_ASCII = /[\x80-\xff]/

export function uppercase(input: string): string {
  if (!NON_ASCII.test(input)) return input.toUpperCase()
  let out = ''
  let from = 0
  for (let i = 0; i < input.length; i++) {
    const c = input.charCodeAt(i)
    if (c >= 0x61 && c <= 0x7a) {
      out += input.slice(from, i) + String.fromCharCode(c - 0x20)
      from = i + 1
    }
  }
  return from === 0 ? input : out + input.slice(from)
}
