/**
 * Splits SecLang text into directives the way Apache's config reader (which ModSecurity 2 uses,
 * and against which CRS is tested) does: `\` at the end of a line continues it, lines starting
 * with `#` are comments, arguments are separated by whitespace, and inside an argument `\\` becomes
 * `\` and `\"` (or `\'` in a single-quoted argument) becomes the quote.
 */

export interface Token {
  readonly text: string
  readonly line: number
  readonly column: number
}

export interface Directive {
  readonly name: Token
  readonly args: readonly Token[]
  readonly line: number
}

export class LexError extends Error {
  readonly line: number
  readonly column: number
  constructor(message: string, line: number, column: number) {
    super(message)
    this.line = line
    this.column = column
  }
}

export function lex(text: string): Directive[] {
  const physical = text.split('\n')
  const out: Directive[] = []
  let i = 0
  while (i < physical.length) {
    const startLine = i + 1
    // Join continuation lines, remembering where each logical offset came from (for error columns).
    let logical = ''
    const map: Array<{ offset: number; line: number }> = []
    for (;;) {
      let raw = physical[i] ?? ''
      if (raw.endsWith('\r')) raw = raw.slice(0, -1)
      map.push({ offset: logical.length, line: i + 1 })
      i++
      if (raw.endsWith('\\') && i < physical.length) {
        logical += raw.slice(0, -1)
        continue
      }
      logical += raw
      break
    }
    const trimmed = logical.trimStart()
    if (trimmed === '' || trimmed.startsWith('#')) continue
    const where = (offset: number): { line: number; column: number } => {
      let m = map[0]!
      for (const entry of map) if (entry.offset <= offset) m = entry
      return { line: m.line, column: offset - m.offset + 1 }
    }
    const tokens: Token[] = []
    let p = 0
    const n = logical.length
    while (p < n) {
      while (p < n && (logical[p] === ' ' || logical[p] === '\t')) p++
      if (p >= n) break
      const at = where(p)
      const quote = logical[p] === '"' || logical[p] === "'" ? logical[p] : undefined
      let value = ''
      if (quote !== undefined) {
        p++
        let closed = false
        while (p < n) {
          const c = logical[p]!
          if (c === '\\' && (logical[p + 1] === quote || logical[p + 1] === '\\')) {
            value += logical[p + 1]
            p += 2
            continue
          }
          if (c === quote) {
            closed = true
            p++
            break
          }
          value += c
          p++
        }
        if (!closed) throw new LexError('unterminated quoted argument', at.line, at.column)
      } else {
        while (p < n && logical[p] !== ' ' && logical[p] !== '\t') {
          if (logical[p] === '\\' && logical[p + 1] === '\\') {
            value += '\\'
            p += 2
            continue
          }
          value += logical[p]
          p++
        }
      }
      tokens.push({ text: value, line: at.line, column: at.column })
    }
    const [name, ...args] = tokens
    if (name) out.push({ name, args, line: startLine })
  }
  return out
}

/**
 * Splits a SecLang action list: `id:1,phase:2,msg:'a, b',t:none`. Values may be single-quoted
 * (with `\'` for a quote). Returns name/value pairs with their offsets in `text`.
 */
export function splitActions(
  text: string,
): Array<{ name: string; value: string | undefined; offset: number }> {
  const out: Array<{ name: string; value: string | undefined; offset: number }> = []
  let p = 0
  const n = text.length
  while (p < n) {
    while (p < n && (text[p] === ' ' || text[p] === '\t' || text[p] === ',')) p++
    if (p >= n) break
    const offset = p
    const start = p
    while (p < n && text[p] !== ':' && text[p] !== ',') p++
    const name = text.slice(start, p).trim()
    let value: string | undefined
    if (text[p] === ':') {
      p++
      while (p < n && (text[p] === ' ' || text[p] === '\t')) p++
      if (text[p] === "'") {
        p++
        value = ''
        let closed = false
        while (p < n) {
          if (text[p] === '\\' && (text[p + 1] === "'" || text[p + 1] === '\\')) {
            value += text[p + 1]
            p += 2
            continue
          }
          if (text[p] === "'") {
            closed = true
            p++
            break
          }
          value += text[p]
          p++
        }
        if (!closed) throw new LexError(`unterminated quote in action '${name}'`, 0, offset + 1)
        while (p < n && text[p] !== ',') p++
      } else {
        const s = p
        while (p < n && text[p] !== ',') p++
        value = text.slice(s, p).trim()
      }
    }
    out.push({ name, value, offset })
    p++
  }
  return out
}
