/**
 * Description: phrase match. Matches when the input contains any of the space-separated phrases,
 * case-insensitively (ASCII), through one Aho–Corasick automaton compiled per rule. The parameter
 * follows ModSecurity's @pm syntax: it may be wrapped in double quotes, `|41 42|` writes bytes in
 * hex, and `\` escapes `:` `;` `\` `"`. With `capture`, TX.0 is the phrase as written in the rule.
 * Arguments: space-separated phrases.
 * Example SecRule: SecRule REQUEST_HEADERS:User-Agent "@pm nikto sqlmap" "id:1,phase:1,t:none,deny"
 */
import { WafConfigError } from '../errors.js'
import { AhoCorasick } from './aho-corasick.js'
import { fixedMatch } from './match-result.js'
import type { Operator, OperatorFactory, OperatorMatch } from './operator.js'

function isHex(c: string): boolean {
  return /^[0-9a-fA-F]$/.test(c)
}

/** Decodes ModSecurity's @pm content syntax (quotes, `|hex|` bytes, `\` escapes). */
export function parsePmContent(param: string): string {
  let text = param.replace(/^[ \t\n\v\f\r]+/, '')
  if (text.length >= 2 && text.startsWith('"') && text.endsWith('"')) text = text.slice(1, -1)
  let out = ''
  let bin = false
  let esc = false
  let pending = ''
  for (const c of text) {
    if (c === '|') {
      bin = !bin
      pending = ''
    } else if (!esc && c === '\\') {
      esc = true
    } else if (bin) {
      if (isHex(c)) {
        pending += c
        if (pending.length === 2) {
          out += String.fromCharCode(parseInt(pending, 16))
          pending = ''
        }
      }
      // Anything else between pipes (spaces) is ignored, as in ModSecurity.
    } else if (esc) {
      if (c !== ':' && c !== ';' && c !== '\\' && c !== '"')
        throw new WafConfigError('PAL_WAF_PM_ESCAPE', `@pm: unsupported escape sequence "\\${c}"`)
      out += c
      esc = false
    } else {
      out += c
    }
  }
  return out
}

/** Builds the @pm operator for a list of phrases (shared with @pmFromFile). */
export function createPhraseMatcher(phrases: readonly string[]): Operator {
  const automaton = new AhoCorasick(phrases)
  const matches: OperatorMatch[] = phrases.map(fixedMatch)
  return (input) => {
    const hit = automaton.find(input)
    return hit === null ? null : matches[hit.pattern]!
  }
}

export const pm: OperatorFactory = (param) => {
  const phrases = parsePmContent(param)
    .split(/[ \t\n\v\f\r]+/)
    .filter((p) => p.length > 0)
  if (phrases.length === 0) throw new WafConfigError('PAL_WAF_PM_EMPTY', '@pm needs at least one phrase')
  return createPhraseMatcher(phrases)
}
