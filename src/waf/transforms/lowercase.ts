/**
 * Description: converts A-Z to a-z. Like ModSecurity (C `tolower` in the C locale) it touches ASCII
 * letters only; bytes 0x80-0xff stay as they are.
 * Arguments: none.
 * Example SecRule: SecRule ARGS "@rx select" "id:1,phase:2,t:none,t:lowercase,deny"
 */
const NON_ASCII = /[\x80-\xff]/

export function lowercase(input: string): string {
  // String#toLowerCase would also fold Latin-1 letters (0xc0-0xde); only use it on pure ASCII.
  if (!NON_ASCII.test(input)) return input.toLowerCase()
  let out = ''
  let from = 0
  for (let i = 0; i < input.length; i++) {
    const c = input.charCodeAt(i)
    if (c >= 0x41 && c <= 0x5a) {
      out += input.slice(from, i) + String.fromCharCode(c + 0x20)
      from = i + 1
    }
  }
  return from === 0 ? input : out + input.slice(from)
}
