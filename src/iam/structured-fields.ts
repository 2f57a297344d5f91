/**
 * The slice of RFC 8941 structured fields that HTTP message signatures need: dictionaries whose
 * members are inner lists, byte sequences, strings, integers, tokens or booleans, each with
 * parameters. Strict: anything else is a parse error (undefined), never a guess.
 */
export type BareItem = string | number | boolean | Uint8Array | { readonly token: string }
export interface Item {
  readonly value: BareItem
  readonly params: ReadonlyMap<string, BareItem>
}
export interface Member {
  readonly value: BareItem | readonly Item[]
  readonly params: ReadonlyMap<string, BareItem>
  /** The member's text after `key=` (inner list and parameters), as sent. */
  readonly raw: string
}

/** Bounds the parser's work on hostile headers. */
export const MAX_FIELD_LENGTH = 8192

class Cursor {
  i = 0
  constructor(readonly s: string) {}
  peek(): string {
    return this.s[this.i] ?? ''
  }
  eat(c: string): boolean {
    if (this.peek() !== c) return false
    this.i++
    return true
  }
  ows(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.i++
  }
}

function parseKey(c: Cursor): string {
  const m = /^[a-z*][a-z0-9_\-.*]*/.exec(c.s.slice(c.i))
  if (!m) throw new SyntaxError('key expected')
  c.i += m[0].length
  return m[0]
}

function parseBareItem(c: Cursor): BareItem {
  const ch = c.peek()
  if (ch === '"') {
    c.i++
    let out = ''
    for (;;) {
      const x = c.s[c.i++]
      if (x === undefined) throw new SyntaxError('unterminated string')
      if (x === '"') return out
      if (x === '\\') {
        const y = c.s[c.i++]
        if (y !== '"' && y !== '\\') throw new SyntaxError('bad escape')
        out += y
      } else {
        const code = x.charCodeAt(0)
        if (code < 0x20 || code > 0x7e) throw new SyntaxError('bad string character')
        out += x
      }
    }
  }
  if (ch === ':') {
    c.i++
    const end = c.s.indexOf(':', c.i)
    if (end < 0) throw new SyntaxError('unterminated byte sequence')
    const b64 = c.s.slice(c.i, end)
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) throw new SyntaxError('bad byte sequence')
    c.i = end + 1
    return new Uint8Array(Buffer.from(b64, 'base64'))
  }
  if (ch === '?') {
    c.i++
    const v = c.s[c.i++]
    if (v === '1') return true
    if (v === '0') return false
    throw new SyntaxError('bad boolean')
  }
  const num = /^-?\d{1,15}/.exec(c.s.slice(c.i))
  if (num) {
    c.i += num[0].length
    if (c.peek() === '.') throw new SyntaxError('decimals are not supported')
    return Number(num[0])
  }
  const tok = /^[A-Za-z*][A-Za-z0-9!#$%&'*+\-.^_`|~:/]*/.exec(c.s.slice(c.i))
  if (tok) {
    c.i += tok[0].length
    return { token: tok[0] }
  }
  throw new SyntaxError('item expected')
}

function parseParams(c: Cursor): Map<string, BareItem> {
  const params = new Map<string, BareItem>()
  while (c.eat(';')) {
    c.ows()
    const key = parseKey(c)
    if (params.has(key)) throw new SyntaxError('duplicate parameter')
    params.set(key, c.eat('=') ? parseBareItem(c) : true)
  }
  return params
}

function parseInnerList(c: Cursor): Item[] {
  const items: Item[] = []
  for (;;) {
    while (c.peek() === ' ') c.i++
    if (c.eat(')')) return items
    const value = parseBareItem(c)
    items.push({ value, params: parseParams(c) })
    const next = c.peek()
    if (next !== ' ' && next !== ')') throw new SyntaxError('bad inner list')
  }
}

/** Parses a dictionary field; undefined when it is not well formed. */
export function parseDictionary(field: string): Map<string, Member> | undefined {
  if (field.length > MAX_FIELD_LENGTH) return undefined
  const c = new Cursor(field.trim())
  const out = new Map<string, Member>()
  try {
    while (c.i < c.s.length) {
      const key = parseKey(c)
      const start = c.i + 1
      let value: BareItem | Item[] = true
      if (c.eat('=')) value = c.eat('(') ? parseInnerList(c) : parseBareItem(c)
      const params = parseParams(c)
      out.set(key, { value, params, raw: c.s.slice(start, c.i) })
      c.ows()
      if (c.i >= c.s.length) break
      if (!c.eat(',')) return undefined
      c.ows()
      if (c.i >= c.s.length) return undefined
    }
  } catch {
    return undefined
  }
  return out
}
