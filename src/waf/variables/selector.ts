/**
 * Parses SecRule target lists: `ARGS|!ARGS:foo|&TX:score|REQUEST_COOKIES:/^__utm/|XML:/*`.
 * Shared by seclang (rules) and the engine (`ctl:ruleRemoveTarget*`).
 */
import type { VariableSelector } from '../engine/rule.js'

export class SelectorSyntaxError extends Error {
  readonly offset: number
  constructor(message: string, offset: number) {
    super(message)
    this.offset = offset
  }
}

/** Parses a target list. `isKnown` checks a variable name (upper-case); unknown names are an error. */
export function parseSelectors(text: string, isKnown: (name: string) => boolean): VariableSelector[] {
  const out: VariableSelector[] = []
  let i = 0
  const n = text.length
  while (i < n) {
    const start = i
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++
    let count = false
    let exclude = false
    if (text[i] === '&') {
      count = true
      i++
    } else if (text[i] === '!') {
      exclude = true
      i++
    }
    const nameStart = i
    while (i < n && /[A-Za-z0-9_]/.test(text[i]!)) i++
    const variable = text.slice(nameStart, i).toUpperCase()
    if (variable === '') throw new SelectorSyntaxError(`expected a variable name in '${text}'`, nameStart)
    if (!isKnown(variable)) throw new SelectorSyntaxError(`unknown variable '${variable}'`, nameStart)
    let key: string | undefined
    let keyRegex: RegExp | undefined
    if (text[i] === ':' || (text[i] === '.' && variable !== 'XML')) {
      i++
      if (variable === 'XML') {
        // An XPath may contain '/', so it runs to the next '|'.
        const end = text.indexOf('|', i)
        key = text.slice(i, end < 0 ? n : end)
        i = end < 0 ? n : end
      } else if (text[i] === '/') {
        let j = i + 1
        let pattern = ''
        while (j < n && text[j] !== '/') {
          if (text[j] === '\\' && j + 1 < n) {
            // `\/` stands for a slash inside the pattern; other escapes are the regex's own.
            pattern += text[j + 1] === '/' ? '/' : text.slice(j, j + 2)
            j += 2
            continue
          }
          pattern += text[j]
          j++
        }
        if (j >= n) throw new SelectorSyntaxError(`unterminated /regex/ after ${variable}:`, i)
        try {
          keyRegex = new RegExp(pattern, 'is')
        } catch (cause) {
          throw new SelectorSyntaxError(`invalid regex in ${variable}:/${pattern}/: ${String(cause)}`, i)
        }
        i = j + 1
      } else if (text[i] === "'") {
        const end = text.indexOf("'", i + 1)
        if (end < 0) throw new SelectorSyntaxError(`unterminated quote after ${variable}:`, i)
        key = text.slice(i + 1, end).toLowerCase()
        i = end + 1
      } else {
        const end = text.indexOf('|', i)
        key = text
          .slice(i, end < 0 ? n : end)
          .trim()
          .toLowerCase()
        i = end < 0 ? n : end
      }
    }
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++
    if (i < n && text[i] !== '|') throw new SelectorSyntaxError(`unexpected '${text[i]}' in target list`, i)
    out.push({ variable, key, keyRegex, count, exclude, text: text.slice(start, i).trim() })
    i++
  }
  if (out.length === 0) throw new SelectorSyntaxError('empty target list', 0)
  return out
}

/** True when `sel` (an exclusion or ruleRemoveTarget selector) removes the value `key` of `variable`. */
export function selectorCovers(sel: VariableSelector, variable: string, key: string): boolean {
  if (sel.variable !== variable) return false
  if (sel.keyRegex) return sel.keyRegex.test(key)
  if (sel.key === undefined) return true
  return sel.key === key.toLowerCase()
}
