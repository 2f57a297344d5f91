/**
 * A tokenizer for SQL fragments. It reads a byte string (code units 0..255) left to right, once,
 * with no regular expressions: every loop advances the position, so the cost is linear in the
 * part of the input it reads, and it stops after `maxTokens` tokens.
 *
 * `quote` is the context the fragment starts in: `''` means as is, `'` or `"` means the fragment
 * was pasted inside a string opened by that quote, so the first token is the rest of that string.
 */
import { wordClass, CMP_WORDS } from './keywords.js'

/**
 * Token types, one character each (they make up the fingerprint):
 * `s` string, `1` number or literal, `n` name, `v` variable, `f` function (set by folding),
 * `k` keyword, `E` statement, `U` union, `&` logic, `o` operator, `c` comment,
 * `(` `)` `,` `;` `.` punctuation, `?` anything else.
 */
export type SqlTokenType =
  's' | '1' | 'n' | 'v' | 'f' | 'k' | 'E' | 'U' | '&' | 'o' | 'c' | '(' | ')' | ',' | ';' | '.' | '?'

export interface SqlToken {
  type: SqlTokenType
  /** Upper-cased for words; the operator text for operators; empty for strings and comments. */
  text: string
  /** Operators: true for comparisons (`=`, `<`, LIKE, IN ...). */
  cmp: boolean
  /** Strings: false when the input ended before the closing quote. */
  closed: boolean
  /** Strings: the content holds whitespace (prose, not a value like `1` or `x`). */
  spaced: boolean
}

export type SqlContext = '' | "'" | '"'

const WS = new Uint8Array(256)
for (const c of [0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0xa0]) WS[c] = 1

/** Bytes that may continue a word: ASCII letters, digits, `_`, `$`, every byte >= 0x80 (UTF-8 letters). */
const WORD = new Uint8Array(256)
for (let c = 0; c < 256; c++) {
  if (
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x5f ||
    c === 0x24 ||
    c >= 0x80
  ) {
    WORD[c] = 1
  }
}

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39
const isHex = (c: number): boolean => isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)

const CMP_OPS = new Set(['=', '<', '>', '<=', '>=', '<>', '!=', '<=>', '!<', '!>', ':=', '=='])
/** Two-byte operators, keyed by `first * 256 + second`. */
const TWO_OPS = new Set(
  ['<>', '!=', '<=', '>=', '||', '&&', '::', ':=', '<<', '>>', '!<', '!>', '=='].map(
    (op) => op.charCodeAt(0) * 256 + op.charCodeAt(1),
  ),
)
const ONE_OPS = new Uint8Array(256)
for (const ch of '=<>!+-*/%^|&~:\\') ONE_OPS[ch.charCodeAt(0)] = 1

const COLLAPSIBLE = new Set<SqlTokenType>(['(', ')', 'c', ';', 'o', ','])

function upperAscii(s: string): string {
  let out = ''
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    out += c >= 0x61 && c <= 0x7a ? String.fromCharCode(c - 32) : s[i]
  }
  return out
}

/**
 * Position just after a quoted run that starts after the opening quote at `from`; `closed` tells
 * whether the closing quote was found, `spaced` whether the content holds whitespace.
 */
function scanQuoted(
  input: string,
  from: number,
  quote: number,
): { end: number; closed: boolean; spaced: boolean } {
  let i = from
  let spaced = false
  const n = input.length
  while (i < n) {
    const c = input.charCodeAt(i)
    if (WS[c] === 1) spaced = true
    if (c === 0x5c && quote !== 0x60) {
      i += 2 // backslash escape (MySQL): the next byte is literal
      continue
    }
    if (c === quote) {
      if (input.charCodeAt(i + 1) === quote) {
        i += 2 // doubled quote is an escaped quote
        continue
      }
      return { end: i + 1, closed: true, spaced }
    }
    i++
  }
  return { end: n, closed: false, spaced }
}

function tok(type: SqlTokenType, text = '', cmp = false, closed = true, spaced = false): SqlToken {
  return { type, text, cmp, closed, spaced }
}

/**
 * Splits `input` into at most `maxTokens` tokens. Terminated block comments are skipped (they
 * separate words like a space); MySQL executable comments `/*! ... *\/` are read as SQL.
 * Returns the tokens and whether reading stopped early.
 */
export function tokenizeSql(
  input: string,
  context: SqlContext,
  maxTokens: number,
): { tokens: SqlToken[]; truncated: boolean } {
  const tokens: SqlToken[] = []
  /**
   * Runs of three or more identical punctuation, comment or unary-operator tokens keep two: padding
   * like `((((((` or `- - - -` must not use up the token budget and push the injection out of view.
   */
  const emit = (type: SqlTokenType, text = '', cmp = false, closed = true, spaced = false): void => {
    const a = tokens[tokens.length - 1]
    const b = tokens[tokens.length - 2]
    if (
      a !== undefined &&
      b !== undefined &&
      COLLAPSIBLE.has(type) &&
      a.type === type &&
      b.type === type &&
      a.text === text &&
      b.text === text
    ) {
      return
    }
    tokens.push(tok(type, text, cmp, closed, spaced))
  }
  const n = input.length
  let i = 0
  let inExecComment = false
  if (context !== '') {
    const r = scanQuoted(input, 0, context.charCodeAt(0))
    emit('s', '', false, r.closed, r.spaced)
    i = r.end
  }
  while (i < n) {
    if (tokens.length >= maxTokens) return { tokens, truncated: true }
    const c = input.charCodeAt(i)
    if (WS[c] === 1) {
      i++
      continue
    }
    const c1 = i + 1 < n ? input.charCodeAt(i + 1) : -1
    // Strings
    if (c === 0x27 || c === 0x22) {
      const r = scanQuoted(input, i + 1, c)
      emit('s', '', false, r.closed, r.spaced)
      i = r.end
      continue
    }
    // Backtick-quoted identifier
    if (c === 0x60) {
      const r = scanQuoted(input, i + 1, c)
      emit('n', 'ID')
      i = r.end
      continue
    }
    // Comments
    if (c === 0x2d && c1 === 0x2d) {
      emit('c', '--')
      i += 2
      while (i < n && input.charCodeAt(i) !== 0x0a) i++
      continue
    }
    if (c === 0x23) {
      emit('c', '#')
      i++
      while (i < n && input.charCodeAt(i) !== 0x0a) i++
      continue
    }
    if (c === 0x2f && c1 === 0x2a) {
      if (input.charCodeAt(i + 2) === 0x21) {
        // MySQL executable comment: the body runs as SQL; skip the optional version number
        inExecComment = true
        i += 3
        while (i < n && isDigit(input.charCodeAt(i))) i++
        continue
      }
      const close = input.indexOf('*/', i + 2)
      if (close < 0) {
        emit('c', '/*')
        i = n
      } else {
        i = close + 2
      }
      continue
    }
    if (inExecComment && c === 0x2a && c1 === 0x2f) {
      inExecComment = false
      i += 2
      continue
    }
    // Numbers: 0x.., 0b.., decimals with fraction and exponent
    if (isDigit(c) || (c === 0x2e && isDigit(c1))) {
      let j = i
      let text = 'NUM'
      if (c === 0x30 && (c1 === 0x78 || c1 === 0x58)) {
        text = 'HEX'
        j += 2
        while (j < n && isHex(input.charCodeAt(j))) j++
      } else if (
        c === 0x30 &&
        (c1 === 0x62 || c1 === 0x42) &&
        (input[i + 2] === '0' || input[i + 2] === '1')
      ) {
        text = 'HEX'
        j += 2
        while (j < n && (input[j] === '0' || input[j] === '1')) j++
      } else {
        while (j < n && isDigit(input.charCodeAt(j))) j++
        if (input.charCodeAt(j) === 0x2e) {
          j++
          while (j < n && isDigit(input.charCodeAt(j))) j++
        }
        const e = input.charCodeAt(j)
        if (e === 0x65 || e === 0x45) {
          let k = j + 1
          const sign = input.charCodeAt(k)
          if (sign === 0x2b || sign === 0x2d) k++
          if (isDigit(input.charCodeAt(k))) {
            j = k
            while (j < n && isDigit(input.charCodeAt(j))) j++
          }
        }
      }
      emit('1', text)
      i = j
      continue
    }
    // Variables: @name, @@name, @'quoted', @"quoted", @`quoted`
    if (c === 0x40) {
      let j = i + 1
      if (input.charCodeAt(j) === 0x40) j++
      const q = input.charCodeAt(j)
      if (q === 0x27 || q === 0x22 || q === 0x60) {
        j = scanQuoted(input, j + 1, q).end
      } else {
        while (j < n && WORD[input.charCodeAt(j)] === 1) j++
      }
      if (j === i + 1) emit('?', '@')
      else emit('v', 'VAR')
      i = j
      continue
    }
    // Words
    if (WORD[c] === 1) {
      let j = i + 1
      while (j < n && WORD[input.charCodeAt(j)] === 1) j++
      // Keywords are short: a long word is a name, and upper-casing it would be wasted work
      const word = j - i > 40 ? 'LONG_NAME' : upperAscii(input.slice(i, j))
      const next = input.charCodeAt(j)
      // Prefixed string literals: N'..' X'..' B'..' E'..' _utf8'..'
      if (
        next === 0x27 &&
        (word === 'N' || word === 'X' || word === 'B' || word === 'E' || word.startsWith('_'))
      ) {
        const r = scanQuoted(input, j + 1, 0x27)
        emit('s', '', false, r.closed, r.spaced)
        i = r.end
        continue
      }
      const cls = wordClass(word)
      if (cls === undefined) emit('n', word)
      else emit(cls, word, cls === 'o' && CMP_WORDS.has(word))
      i = j
      continue
    }
    // Punctuation
    if (c === 0x28 || c === 0x29 || c === 0x2c || c === 0x3b || c === 0x2e) {
      emit(input[i] as SqlTokenType)
      i++
      continue
    }
    // Operators, longest first (compared by code so long operator runs cost no string slicing)
    let opLen = 0
    if (c === 0x3c && c1 === 0x3d && input.charCodeAt(i + 2) === 0x3e)
      opLen = 3 // <=>
    else if (c1 >= 0 && TWO_OPS.has(c * 256 + c1)) opLen = 2
    else if (ONE_OPS[c] === 1) opLen = 1
    if (opLen > 0) {
      const op = opLen === 1 ? (input[i] as string) : input.slice(i, i + opLen)
      if (op === '||' || op === '&&') emit('&', op)
      else emit('o', op, CMP_OPS.has(op))
      i += opLen
      continue
    }
    emit('?', input[i])
    i++
  }
  return { tokens, truncated: false }
}
