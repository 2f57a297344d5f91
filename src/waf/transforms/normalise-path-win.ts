/**
 * Description: normalisePath for Windows paths: `\` is a separator too and is turned into `/` before
 * `./`, `../` and repeated separators are resolved.
 * Arguments: none.
 * Example SecRule: SecRule REQUEST_FILENAME "@contains /windows/system32" "id:1,phase:1,t:none,t:normalisePathWin,deny"
 */
import { normalisePathBytes } from './normalise-path.js'

export function normalisePathWin(input: string): string {
  // As normalisePath's shortcut; a backslash is a separator here, so it always takes the long way.
  if (input.indexOf('.') < 0 && input.indexOf('//') < 0 && input.indexOf('\\') < 0) return input
  return normalisePathBytes(input, true)
}
