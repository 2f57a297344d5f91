/**
 * Description: normalises a path the way ModSecurity does: removes `./` self references, resolves
 * `dir/../` back references (never above the root: `/../../etc` → `/etc`; a relative path keeps
 * leading `../`), collapses repeated slashes, and keeps a trailing slash only if there was one.
 * Arguments: none.
 * Example SecRule: SecRule REQUEST_FILENAME "@endsWith /etc/passwd" "id:1,phase:1,t:none,t:normalisePath,deny"
 */
import { latin1 } from './bytes.js'

const SLASH = 0x2f
const BACKSLASH = 0x5c
const DOT = 0x2e

/**
 * Port of ModSecurity's normalize_path_inplace() state machine, kept step for step so that edge
 * cases (relative paths hitting the root, trailing dots) give the same bytes. `win` also treats `\`
 * as a separator and turns it into `/`.
 */
export function normalisePathBytes(input: string, win: boolean): string {
  const n = input.length
  if (n === 0) return input
  const b = new Uint8Array(n)
  for (let k = 0; k < n; k++) b[k] = input.charCodeAt(k)
  const end = n - 1
  const at = (k: number): number => b[k] ?? 0
  const relative = !(at(0) === SLASH || (win && at(0) === BACKSLASH))
  const trailing = at(end) === SLASH || (win && at(end) === BACKSLASH)
  let src = 0
  let dst = 0
  let hitRoot = false
  let done = false
  while (!done && src <= end && dst <= end) {
    if (win) {
      if (at(src) === BACKSLASH) b[src] = SLASH
      if (src < end && at(src + 1) === BACKSLASH) b[src + 1] = SLASH
    }
    let normalise = true
    if (src === end) done = true
    else if (at(src + 1) !== SLASH) normalise = false
    let skipCopy = false
    if (normalise) {
      if (src !== end && at(src) === SLASH) {
        // Empty segment: the copy below collapses it.
      } else if (at(src) === DOT) {
        if (dst > 0 && at(dst - 1) === DOT) {
          if (relative && (hitRoot || dst - 2 <= 0)) {
            hitRoot = true // nothing to go back to: keep the `..`
          } else {
            dst -= 3
            while (dst > 0 && at(dst) !== SLASH) dst--
            if (dst <= 0) {
              hitRoot = true
              dst = 0
              if (!relative && src === end) dst++
            }
            if (done) skipCopy = true
            else src++
          }
        } else if (dst === 0) {
          if (done) skipCopy = true
          else src++
        } else if (at(dst - 1) === SLASH) {
          if (done) skipCopy = true
          else {
            dst--
            src++
          }
        }
      } else if (dst > 0) {
        hitRoot = false
      }
    }
    if (skipCopy) continue
    if (at(src) === SLASH) {
      while (src < end && (at(src + 1) === SLASH || (win && at(src + 1) === BACKSLASH))) src++
      if (relative && dst === 0) {
        src++
        continue
      }
    }
    b[dst++] = at(src++)
  }
  if (!trailing && dst > 0 && at(dst - 1) === SLASH) dst--
  return latin1(b, dst)
}

export function normalisePath(input: string): string {
  // Without a dot or an empty segment there is nothing to resolve or collapse: skip the state machine.
  if (input.indexOf('.') < 0 && input.indexOf('//') < 0) return input
  return normalisePathBytes(input, false)
}
