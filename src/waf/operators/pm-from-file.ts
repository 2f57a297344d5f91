/**
 * Description: @pm with the phrases read from files, one phrase per line (the whole line, spaces
 * included). Empty lines, blank lines and lines whose first non-blank character is `#` are skipped;
 * a trailing CR is dropped. Several files may be given, separated by spaces; relative paths resolve
 * against the rule file's directory. Matching is case-insensitive (ASCII), one Aho–Corasick automaton
 * per rule. `@pmf` is an alias. Remote (http/https) files are not supported: the WAF does no I/O.
 * Arguments: one or more file paths.
 * Example SecRule: SecRule REQUEST_HEADERS:User-Agent "@pmFromFile scanners-user-agents.data" "id:1,phase:1,t:none,t:lowercase,deny"
 */
import { WafConfigError } from '../errors.js'
import type { OperatorCompileContext, OperatorFactory } from './operator.js'
import { createPhraseMatcher } from './pm.js'

/** Reads the phrases of @pmFromFile data files. */
export function readPhraseFiles(param: string, ctx: OperatorCompileContext): string[] {
  const files = param.split(/[ \t]+/).filter((f) => f.length > 0)
  if (files.length === 0) throw new WafConfigError('PAL_WAF_PMF_EMPTY', '@pmFromFile needs a file name')
  const phrases: string[] = []
  for (const file of files) {
    if (/^https?:\/\//i.test(file))
      throw new WafConfigError('PAL_WAF_PMF_REMOTE', `@pmFromFile: remote files are not supported (${file})`)
    let text: string
    try {
      text = ctx.readFile(file)
    } catch (err) {
      throw new WafConfigError('PAL_WAF_PMF_READ', `@pmFromFile: cannot read ${file}`, {}, { cause: err })
    }
    for (const raw of text.split('\n')) {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw
      const trimmed = line.replace(/^[ \t\n\v\f\r]+/, '')
      if (trimmed === '' || trimmed.startsWith('#')) continue
      phrases.push(line)
    }
  }
  return phrases
}

export const pmFromFile: OperatorFactory = (param, ctx) => {
  const phrases = readPhraseFiles(param, ctx)
  // An empty list is legal (a data file may be all comments); such a rule never matches.
  if (phrases.length === 0) return () => null
  return createPhraseMatcher(phrases)
}
