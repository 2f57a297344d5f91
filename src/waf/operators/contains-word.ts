/**
 * Description: matches when the parameter occurs in the input as a whole word. As in ModSecurity,
 * only ASCII letters count as word characters: `select` is a word in `1select(` and `_select_`
 * but not in `selected`. An empty parameter matches every input.
 * Arguments: the word to look for (macros allowed).
 * Example SecRule: SecRule ARGS "@containsWord select" "id:1,phase:2,t:none,t:lowercase,deny"
 */
import { fixedMatch } from './match-result.js'
import type { OperatorFactory } from './operator.js'

function isBoundary(input: string, pos: number): boolean {
  if (pos < 0 || pos >= input.length) return false
  const c = input.charCodeAt(pos) | 0x20
  return !(c >= 0x61 && c <= 0x7a)
}

export const containsWord: OperatorFactory = (param) => {
  const hit = fixedMatch(param)
  const n = param.length
  return (input) => {
    if (n === 0 || input === param) return hit
    for (let pos = input.indexOf(param); pos !== -1; pos = input.indexOf(param, pos + 1)) {
      const before = pos === 0 || isBoundary(input, pos - 1)
      const after = pos + n === input.length || isBoundary(input, pos + n)
      if (before && after) return hit
    }
    return null
  }
}
