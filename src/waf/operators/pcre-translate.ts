/**
 * Rewrites a PCRE pattern (as ModSecurity compiles it: DOTALL | MULTILINE, no UTF) into the dialect
 * of the engine that runs it, so that matching means the same thing on byte strings.
 *
 * Both targets:
 * - `\s` is PCRE's C-locale set (space, \t, \n, \v, \f, \r). RE2 leaves out \v and JS adds 0xa0
 *   and Unicode spaces, so both get an explicit class: a vertical tab between `union` and `select`
 *   must not slip past a rule. PCRE's `\h`, `\v` (vertical space, not the VT character), `\R` and
 *   `\e` are spelled out too.
 *
 * RE2 (`target: 're2'`):
 * - Possessive quantifiers (`\s*+`) and atomic groups (`(?>...)`) become greedy quantifiers and
 *   plain groups. The result matches a superset of what PCRE matches: never less, sometimes more.
 *   For a possessive single class `X*+` the common case is made exact: the class that comes right
 *   after it (directly, or first in each alternative of the group that follows) loses the bytes of X
 *   for its first character, since X*+ never leaves one of them behind (`\s*+[^c]+` becomes
 *   `\s*(?:[^c\s])[^c]*`). Anything more complex stays a superset.
 *   Exact emulation needs a backtracking engine, and CRS 920600's pattern then backtracks
 *   exponentially on a 100-byte `Accept` header, which would let one request stall the edge. The
 *   price is documented in docs/waf-regex-fallbacks.md: 920600 is `!@rx`, so a superset lets a few
 *   headers through that ModSecurity flags (`text/html; charset=ibm037`, space after `;`).
 * - `hasCaret` tells the caller the pattern uses `^`: with MULTILINE, PCRE's `^` does not match after
 *   a newline that ends the subject, RE2's does.
 *
 * JS RegExp (`target: 'js'`, used without the `m` flag):
 * - Capturing groups become named groups `__g1`, `__g2`, ... and backreferences `\N` become
 *   `\k<__gN>`, so that the helper groups below do not shift TX.1-TX.9.
 * - Possessive `X*+` and atomic `(?>X)` become `(?:(?=(?<__aN>X*))\k<__aN>)`, the lookahead idiom
 *   for "match greedily, never give back".
 * - `^`, `$`, `\A`, `\z`, `\Z` become lookarounds with PCRE's meaning (only \n ends a line; `^` not
 *   after a final newline). `(?P<n>` is understood, `\Q...\E` becomes an escaped literal.
 * - Node 20 has no inline modifiers: when the pattern turns on `(?i)` or `(?i:...)` anywhere, the
 *   whole regex gets the `i` flag (exact when, as in CRS, the modifier covers the whole pattern).
 */

const SPACE = '\\x09-\\x0d\\x20'
const HSPACE = '\\x09\\x20\\xa0'
const VSPACE = '\\x0a-\\x0d\\x85'

const JS_CARET = '(?:(?<![\\s\\S])|(?<=\\n)(?=[\\s\\S]))'
const JS_DOLLAR = '(?=\\n|(?![\\s\\S]))'

export interface Translated {
  readonly source: string
  /** Flags the translation moved out of the pattern (JS only: `i`). */
  readonly extraFlags: string
  /** Number of capturing groups of the original pattern. */
  readonly groups: number
  /** Whether the pattern has a `^` outside character classes. */
  readonly hasCaret: boolean
}

function escapeLiteral(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&')
}

/** Parses one class item escape (`\xHH`, `\d`, `\]` ...) inside `[...]`; undefined when unsupported. */
function escapeBits(
  text: string,
  at: number,
): { bits: Uint8Array; single: number | undefined; next: number } | undefined {
  const e = text[at + 1]
  if (e === undefined) return undefined
  const bits = new Uint8Array(256)
  const set = (from: number, to: number): void => void bits.fill(1, from, to + 1)
  if (e === 'x' && /^[0-9a-fA-F]{2}$/.test(text.slice(at + 2, at + 4))) {
    const v = parseInt(text.slice(at + 2, at + 4), 16)
    bits[v] = 1
    return { bits, single: v, next: at + 4 }
  }
  if (e === 'd' || e === 'w') {
    set(0x30, 0x39)
    if (e === 'w') {
      set(0x41, 0x5a)
      set(0x61, 0x7a)
      bits[0x5f] = 1
    }
    return { bits, single: undefined, next: at + 2 }
  }
  const controls: Record<string, number> = { n: 0x0a, r: 0x0d, t: 0x09, f: 0x0c }
  const code = controls[e] ?? (/[a-zA-Z0-9]/.test(e) ? undefined : e.charCodeAt(0))
  if (code === undefined || code > 0xff) return undefined
  bits[code] = 1
  return { bits, single: code, next: at + 2 }
}

/** The byte set of a translated class `[...]`, or undefined when it uses syntax not handled here. */
export function classBits(text: string): Uint8Array | undefined {
  if (!text.startsWith('[') || !text.endsWith(']')) return undefined
  let i = 1
  const negated = text[i] === '^'
  if (negated) i++
  const bits = new Uint8Array(256)
  const end = text.length - 1
  while (i < end) {
    let from: number
    let item: Uint8Array | undefined
    if (text[i] === '\\') {
      const esc = escapeBits(text, i)
      if (esc === undefined) return undefined
      i = esc.next
      if (esc.single === undefined) {
        item = esc.bits
        from = -1
      } else from = esc.single
    } else if (text[i] === '[' && text[i + 1] === ':') {
      return undefined // POSIX classes: not handled
    } else {
      from = text.charCodeAt(i++)
      if (from > 0xff) return undefined
    }
    if (item !== undefined) {
      for (let k = 0; k < 256; k++) if (item[k] === 1) bits[k] = 1
      continue
    }
    if (text[i] === '-' && i + 1 < end) {
      let to: number
      if (text[i + 1] === '\\') {
        const esc = escapeBits(text, i + 1)
        if (esc?.single === undefined) return undefined
        to = esc.single
        i = esc.next
      } else {
        to = text.charCodeAt(i + 1)
        i += 2
      }
      if (to < from || to > 0xff) return undefined
      bits.fill(1, from, to + 1)
    } else bits[from] = 1
  }
  if (negated) for (let k = 0; k < 256; k++) bits[k] = bits[k] === 1 ? 0 : 1
  return bits
}

/** A class matching exactly the bytes in `bits` (never matching when empty). */
export function bitsToClass(bits: Uint8Array): string {
  const hex = (v: number): string => '\\x' + v.toString(16).padStart(2, '0')
  let body = ''
  for (let k = 0; k < 256; k++) {
    if (bits[k] !== 1) continue
    let j = k
    while (j + 1 < 256 && bits[j + 1] === 1) j++
    body += j === k ? hex(k) : `${hex(k)}-${hex(j)}`
    k = j
  }
  return body === '' ? '[^\\x00-\\xff]' : `[${body}]`
}

interface OpenGroup {
  readonly start: number
  readonly atomic: boolean
  /** RE2: the possessive class whose bytes each alternative of this group must not start with. */
  readonly excluded?: Uint8Array | undefined
}

export function translatePcre(pattern: string, target: 're2' | 'js'): Translated {
  const js = target === 'js'
  const src = pattern
  const extraFlags = js && /\(\?i[:)]/.test(src) ? 'i' : ''
  let out = ''
  let groups = 0
  let helpers = 0
  let hasCaret = false
  const names = new Map<string, number>()
  const open: OpenGroup[] = []
  /** Where the last complete atom starts in `out`, for wrapping it when a possessive marker follows. */
  let atomStart = -1
  /** RE2: bytes the next atom must not start with (set right after a possessive single class). */
  let excluded: Uint8Array | undefined
  let plusToStar = false

  const atomic = (start: number): void => {
    const name = `__a${++helpers}`
    out = `${out.slice(0, start)}(?:(?=(?<${name}>${out.slice(start)}))\\k<${name}>)`
  }

  for (let i = 0; i < src.length; i++) {
    const c = src[i]!
    if (c === '\\') {
      const e = src[i + 1]
      if (e === undefined) {
        out += c
        continue
      }
      i++
      atomStart = out.length
      excluded = undefined
      if (e === 'Q' && js) {
        const end = src.indexOf('\\E', i + 1)
        const literal = end === -1 ? src.slice(i + 1) : src.slice(i + 1, end)
        out += `(?:${escapeLiteral(literal)})`
        i = end === -1 ? src.length : end + 1
        continue
      }
      switch (e) {
        case 's':
          out += `[${SPACE}]`
          break
        case 'S':
          out += `[^${SPACE}]`
          break
        case 'h':
          out += `[${HSPACE}]`
          break
        case 'H':
          out += `[^${HSPACE}]`
          break
        case 'v':
          out += `[${VSPACE}]`
          break
        case 'V':
          out += `[^${VSPACE}]`
          break
        case 'R':
          out += `(?:\\x0d\\x0a|[${VSPACE}])`
          break
        case 'e':
          out += '\\x1b'
          break
        case 'A':
          out += js ? '(?<![\\s\\S])' : '\\A'
          break
        case 'z':
          out += js ? '(?![\\s\\S])' : '\\z'
          break
        case 'Z':
          out += js ? '(?=\\n?(?![\\s\\S]))' : '(?:\\x0a?\\z)'
          break
        default:
          if (js && e >= '1' && e <= '9') out += `\\k<__g${e}>`
          else if (js && e === 'k' && src[i + 1] === '<') {
            const end = src.indexOf('>', i + 2)
            const n = end === -1 ? undefined : names.get(src.slice(i + 2, end))
            if (n === undefined) out += '\\k'
            else {
              out += `\\k<__g${n}>`
              i = end
            }
          } else out += '\\' + e
      }
      continue
    }
    if (c === '[') {
      atomStart = out.length
      let j = i + 1
      let body = '['
      if (src[j] === '^') {
        body += '^'
        j++
      }
      // PCRE reads a `]` first in the class as a literal; JS and RE2 need it escaped.
      if (src[j] === ']') {
        body += '\\]'
        j++
      }
      for (; j < src.length && src[j] !== ']'; j++) {
        const d = src[j]!
        if (d === '\\' && j + 1 < src.length) {
          const e = src[++j]!
          if (e === 's') body += SPACE
          else if (e === 'h') body += HSPACE
          else if (e === 'v') body += VSPACE
          else if (e === 'e') body += '\\x1b'
          else body += '\\' + e
        } else if (d === '[' && src[j + 1] === ':') {
          const end = src.indexOf(':]', j + 2)
          if (end === -1) body += js ? '\\[' : '['
          else {
            body += src.slice(j, end + 2)
            j = end + 1
          }
        } else body += js && d === '[' ? '\\[' : d
      }
      const classText = body + (j < src.length ? ']' : '')
      i = j
      const bits = excluded === undefined ? undefined : classBits(classText)
      const next = src[i + 1]
      if (excluded !== undefined && bits !== undefined && next !== '*' && next !== '?' && next !== '{') {
        const first = bits.map((b, k) => (b === 1 && excluded![k] === 0 ? 1 : 0))
        if (next === '+') {
          out += `(?:${bitsToClass(first)})${classText}`
          plusToStar = true
        } else out += bitsToClass(first)
      } else out += classText
      excluded = undefined
      continue
    }
    if (c === '(') {
      const start = out.length
      if (src[i + 1] !== '?') {
        groups++
        out += js ? `(?<__g${groups}>` : '('
        open.push({ start, atomic: false, excluded })
        continue
      }
      const named = /^\(\?P?<([A-Za-z_]\w*)>/.exec(src.slice(i, i + 40))
      if (named !== null) {
        groups++
        names.set(named[1]!, groups)
        out += js ? `(?<__g${groups}>` : named[0]
        i += named[0].length - 1
        open.push({ start, atomic: false })
        continue
      }
      if (src[i + 2] === '>') {
        out += '(?:'
        i += 2
        open.push({ start, atomic: js })
        continue
      }
      if (js && src.startsWith('i)', i + 2)) {
        i += 3 // hoisted into the `i` flag
        continue
      }
      if (js && src.startsWith('i:', i + 2)) {
        out += '(?:'
        i += 3
        open.push({ start, atomic: false })
        continue
      }
      const flags = /^\(\?[a-zA-Z-]*\)/.exec(src.slice(i, i + 12))
      if (flags !== null) {
        out += flags[0]
        i += flags[0].length - 1
        continue
      }
      const prefix = /^\(\?[a-zA-Z-]*:/.exec(src.slice(i, i + 12))
      if (prefix !== null) {
        out += prefix[0]
        i += prefix[0].length - 1
        open.push({ start, atomic: false, excluded })
        continue
      }
      out += '(?'
      i++
      excluded = undefined
      open.push({ start, atomic: false })
      continue
    }
    if (c === '|') {
      // Each alternative of a group that follows a possessive class starts right after it too.
      excluded = open[open.length - 1]?.excluded
      out += c
      atomStart = -1
      continue
    }
    if (c === ')') {
      excluded = undefined
      out += c
      const group = open.pop()
      if (group !== undefined) {
        if (group.atomic) atomic(group.start)
        atomStart = group.start
      }
      continue
    }
    const interval = c === '{' ? /^\{\d+(?:,\d*)?\}/.exec(src.slice(i, i + 24)) : null
    if (c === '*' || c === '+' || c === '?' || interval !== null) {
      const q = interval !== null ? interval[0] : c
      out += plusToStar && q === '+' ? '*' : q
      plusToStar = false
      i += q.length - 1
      excluded = undefined
      if (src[i + 1] === '+') {
        i++
        // JS: exact emulation. RE2: greedy, with the next class narrowed when X is a single class.
        if (js && atomStart >= 0) atomic(atomStart)
        else if (!js && atomStart >= 0 && q !== '?') {
          const atom = out.slice(atomStart, out.length - q.length)
          excluded =
            atom.length === 1 && atom.charCodeAt(0) <= 0xff ? classBits(`[${atom}]`) : classBits(atom)
        }
      } else if (src[i + 1] === '?') {
        out += '?'
        i++
      }
      atomStart = -1
      continue
    }
    atomStart = out.length
    excluded = undefined
    if (c === '^') {
      hasCaret = true
      out += js ? JS_CARET : c
    } else if (c === '$') out += js ? JS_DOLLAR : c
    else out += c
  }
  return { source: out, extraFlags, groups, hasCaret }
}
