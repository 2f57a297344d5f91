/**
 * Description: normalises a command line the way ModSecurity's cmdLine does, to defeat shell
 * evasions: deletes `\` `"` `'` `^`; turns each run of space, tab, CR, LF, `,` and `;` into one
 * space; drops a space that comes right before `/` or `(`; lowercases ASCII letters.
 * Arguments: none.
 * Example SecRule: SecRule ARGS "@rx \bcat /etc/passwd" "id:1,phase:2,t:none,t:cmdLine,deny"
 */
import { latin1 } from './bytes.js'

/** Every byte the transformation deletes, folds, or lowercases; without one the output is the input. */
const CHANGES = /[\t\n\r "',;\\^/(A-Z]/

export function cmdLine(input: string): string {
  // Most header and argument values hold none of these: skip the byte copy.
  if (!CHANGES.test(input)) return input
  return cmdLineBytes(input)
}

/** The transformation itself, byte by byte (exported for the test that checks the shortcut above). */
export function cmdLineBytes(input: string): string {
  const out = new Uint8Array(input.length)
  let o = 0
  let space = false
  for (let i = 0; i < input.length; i++) {
    const c = input.charCodeAt(i)
    switch (c) {
      case 0x22: // "
      case 0x27: // '
      case 0x5c: // \
      case 0x5e: // ^
        break
      case 0x20:
      case 0x2c: // ,
      case 0x3b: // ;
      case 0x09:
      case 0x0d:
      case 0x0a:
        if (!space) {
          out[o++] = 0x20
          space = true
        }
        break
      case 0x2f: // /
      case 0x28: // (
        if (space) o--
        space = false
        out[o++] = c
        break
      default:
        out[o++] = c >= 0x41 && c <= 0x5a ? c + 0x20 : c
        space = false
    }
  }
  return latin1(out, o)
}
