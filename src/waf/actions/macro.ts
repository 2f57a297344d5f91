/**
 * Macros: `%{tx.anomaly_score}`, `%{MATCHED_VAR}`, `%{REQUEST_HEADERS.host}`, `%{rule.id}`.
 * Parsed once at load time; the engine expands them per transaction.
 */

export interface MacroRef {
  /** Upper-case variable or collection name: `TX`, `MATCHED_VAR`, `RULE`, `REQUEST_HEADERS`. */
  readonly variable: string
  /** Lower-case key after the dot, or undefined. */
  readonly key: string | undefined
}

/** Literal text and references, in order. A macro without references is a single string. */
export type Macro = ReadonlyArray<string | MacroRef>

export function parseMacro(text: string): Macro {
  const parts: Array<string | MacroRef> = []
  let i = 0
  let literal = ''
  while (i < text.length) {
    const start = text.indexOf('%{', i)
    if (start < 0) break
    const end = text.indexOf('}', start + 2)
    if (end < 0) break
    literal += text.slice(i, start)
    const inner = text.slice(start + 2, end).trim()
    const dot = inner.search(/[.:]/)
    const variable = (dot < 0 ? inner : inner.slice(0, dot)).toUpperCase()
    const key = dot < 0 ? undefined : inner.slice(dot + 1).toLowerCase()
    if (literal !== '') parts.push(literal)
    literal = ''
    parts.push({ variable, key })
    i = end + 1
  }
  literal += text.slice(i)
  if (literal !== '' || parts.length === 0) parts.push(literal)
  return parts
}

export function hasMacro(text: string): boolean {
  return /%\{[^}]+\}/.test(text)
}

/** The macro's text if it has no references (a constant), else undefined. */
export function constantMacro(macro: Macro): string | undefined {
  if (macro.length === 1 && typeof macro[0] === 'string') return macro[0]
  return undefined
}
