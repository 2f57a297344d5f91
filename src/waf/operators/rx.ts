/**
 * Description: matches the input against a PCRE-style regular expression, the way ModSecurity v3
 * compiles it: PCRE_DOTALL and PCRE_MULTILINE (`.` matches a newline, `^`/`$` match at line breaks),
 * case-sensitive unless the pattern says `(?i)`; an empty pattern matches everything. Matching runs
 * on RE2 (linear time, no catastrophic backtracking); possessive quantifiers and atomic groups are
 * translated for it (pcre-translate.ts). Patterns RE2 cannot run (backreferences, lookaround) are
 * compiled with JS RegExp instead. That fallback backtracks, so an RE2 superset of the pattern
 * prefilters its input, and it is fed 8 KiB windows (overlapping by 1 KiB) of at most the first
 * 64 KiB of the input (start-anchored patterns get those 64 KiB at once). docs/waf-regex-fallbacks.md
 * lists the CRS rules concerned and every known difference from ModSecurity.
 * With `capture`, the whole match and groups 1-9 become TX.0-TX.9 (a group that did not take part is
 * an empty string; trailing ones are left out, as PCRE reports them).
 * Arguments: the pattern (macros already expanded).
 * Example SecRule: SecRule ARGS "@rx (?i)<script[^>]*>" "id:1,phase:2,t:none,capture,deny,logdata:'%{TX.0}'"
 */
import RE2 from 're2'

import { WafConfigError } from '../errors.js'
import type { Operator, OperatorFactory, OperatorMatch } from './operator.js'
import { relax } from './pcre-relax.js'
import type { RegexSetPrefilter } from './regex-set.js'
import { translatePcre } from './pcre-translate.js'

/**
 * The JS RegExp fallback backtracks, so one call never sees more than FALLBACK_WINDOW bytes: it scans
 * windows that overlap by FALLBACK_OVERLAP bytes, over at most the first FALLBACK_INPUT_LIMIT bytes.
 * A match longer than the overlap that straddles two windows, or one past the limit, is missed.
 */
export const FALLBACK_WINDOW = 8192
export const FALLBACK_OVERLAP = 1024
export const FALLBACK_INPUT_LIMIT = 65536

const MAX_CAPTURES = 10

export interface CompiledRegex {
  readonly engine: 're2' | 'js'
  readonly operator: Operator
}

/**
 * RE2 reads JS strings by converting them to UTF-8 inside the addon, which costs about 3 µs per call
 * whenever the string differs from the previous one. Converting here is 5-7 times cheaper, and a
 * one-entry cache lets consecutive rules on the same value share the conversion. A byte string's
 * code units 0x80-0xff become two UTF-8 bytes each, i.e. the code points U+0080-U+00FF, which is
 * exactly what `\xNN` in a pattern means to RE2: byte semantics are kept.
 */
let lastInput = ''
let lastUtf8: Buffer = Buffer.alloc(0)

function utf8Of(input: string): Buffer {
  if (input !== lastInput) {
    lastUtf8 = Buffer.from(input, 'utf8')
    lastInput = input
  }
  return lastUtf8
}

/** What RE2#exec returns for a Buffer: the groups as Buffers (its typings only declare group 0). */
type BufferExecArray = ArrayLike<Buffer | undefined>

function toMatchFromUtf8(m: BufferExecArray | null): OperatorMatch | null {
  if (m === null) return null
  let n = Math.min(m.length, MAX_CAPTURES)
  while (n > 1 && m[n - 1] === undefined) n--
  const captures: string[] = new Array<string>(n)
  for (let k = 0; k < n; k++) captures[k] = m[k]?.toString('utf8') ?? ''
  return { captures }
}

/** A match whose captures are computed on first access (the value is known to match). */
function lazyCaptures(re: RE2, bytes: Buffer): OperatorMatch {
  let captures: readonly string[] | undefined
  return {
    get captures(): readonly string[] {
      captures ??= toMatchFromUtf8(re.exec(bytes) as BufferExecArray | null)?.captures ?? []
      return captures
    },
  }
}

/** Captures of the JS fallback, whose groups the translation renamed `__g1`, `__g2`, ... */
function toMatchFromNamed(m: RegExpExecArray | null, groups: number): OperatorMatch | null {
  if (m === null) return null
  let n = Math.min(groups + 1, MAX_CAPTURES)
  const named = m.groups ?? {}
  while (n > 1 && named[`__g${n - 1}`] === undefined) n--
  const captures: string[] = new Array<string>(n)
  captures[0] = m[0]
  for (let k = 1; k < n; k++) captures[k] = named[`__g${k}`] ?? ''
  return { captures }
}

/**
 * Drops a leading `X*` / `X*?` (X one class or escape) from an unanchored pattern, also right inside
 * a leading `(?i:` / `(?:` group. Whether a match exists does not change (the prefix can match empty),
 * but a backtracking engine no longer retries it at every start position: CRS 942130 begins with
 * `[\s'"\`()]*?` and took 190 ms on 8 KiB of spaces with it, under 1 ms without. TX.0 then lacks
 * the prefix.
 */
export function stripLeadingStar(pattern: string): string {
  const m = /^((?:\(\?[a-z]*:)?)(?:\[(?:\\.|[^\]\\])+\]|\\[a-zA-Z])\*\??/.exec(pattern)
  if (m === null) return pattern
  // Inside a group, only when the group is the whole pattern: `(?:\d*a){2}` must keep its prefix.
  if (m[1] !== '' && groupEnd(pattern) !== pattern.length - 1) return pattern
  return m[1]! + pattern.slice(m[0].length)
}

/**
 * Whether every match must start at the beginning of a line: the pattern starts with `^` or `\A`
 * and has no top-level alternation.
 */
export function isStartAnchored(pattern: string): boolean {
  if (!pattern.startsWith('^') && !pattern.startsWith('\\A')) return false
  let depth = 0
  let inClass = false
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]
    if (c === '\\') i++
    else if (inClass) inClass = c !== ']'
    else if (c === '[') {
      inClass = true
      if (pattern[i + 1] === '^') i++
      if (pattern[i + 1] === ']') i++
    } else if (c === '(') depth++
    else if (c === ')') depth--
    else if (c === '|' && depth === 0) return false
  }
  return true
}

/** Index of the `)` closing the group that opens at 0, or -1. */
function groupEnd(pattern: string): number {
  let depth = 0
  let inClass = false
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]
    if (c === '\\') i++
    else if (inClass) inClass = c !== ']'
    else if (c === '[') {
      inClass = true
      if (pattern[i + 1] === '^') i++
      if (pattern[i + 1] === ']') i++
    } else if (c === '(') depth++
    else if (c === ')' && --depth === 0) return i
  }
  return -1
}

/** An RE2 superset of the pattern (see pcre-relax.ts), or undefined when RE2 cannot run even that. */
function createPrefilter(pattern: string): ((input: string) => boolean) | undefined {
  try {
    const re = new RE2(translatePcre(relax(pattern), 're2').source, 'sm')
    return (input) => re.test(utf8Of(input))
  } catch {
    return undefined
  }
}

function fallbackOperator(
  re: RegExp,
  groups: number,
  anchored: boolean,
  prefilter: ((input: string) => boolean) | undefined,
): Operator {
  const toMatch = (m: RegExpExecArray | null): OperatorMatch | null => toMatchFromNamed(m, groups)
  const exact = fallbackScan(re, anchored, toMatch)
  if (prefilter === undefined) return exact
  // RE2 turns away (in linear time) every input the backtracking engine cannot match.
  return (input) =>
    prefilter(input.length > FALLBACK_INPUT_LIMIT ? input.slice(0, FALLBACK_INPUT_LIMIT) : input)
      ? exact(input)
      : null
}

function fallbackScan(
  re: RegExp,
  anchored: boolean,
  toMatch: (m: RegExpExecArray | null) => OperatorMatch | null,
): Operator {
  // A start-anchored pattern only tries line starts, so it gets the whole (limited) input at once:
  // a window boundary would be a fake start and end of input (CRS 920600 is `!@rx ^...$`).
  if (anchored)
    return (input) =>
      toMatch(re.exec(input.length > FALLBACK_INPUT_LIMIT ? input.slice(0, FALLBACK_INPUT_LIMIT) : input))
  return (input) => {
    if (input.length <= FALLBACK_WINDOW) return toMatch(re.exec(input))
    const end = Math.min(input.length, FALLBACK_INPUT_LIMIT)
    for (let start = 0; start < end; start += FALLBACK_WINDOW - FALLBACK_OVERLAP) {
      const m = re.exec(input.slice(start, Math.min(end, start + FALLBACK_WINDOW)))
      if (m !== null) return toMatch(m)
      if (start + FALLBACK_WINDOW >= end) break
    }
    return null
  }
}

/** Compiles a pattern as @rx does and says which engine will run it. Throws WafConfigError. */
export function compileRegex(pattern: string, prefilter?: RegexSetPrefilter): CompiledRegex {
  const source = pattern === '' ? '.*' : pattern
  // `^.*$` and its kin match every input whole (`.` matches a newline here): CRS uses them to capture a
  // value into TX.0 (920450 for each header name, 901318 for the User-Agent), no regex needs to run.
  if (/^\^?\.\*\$?$/.test(source)) return { engine: 're2', operator: (input) => ({ captures: [input] }) }
  let re2Error: unknown
  try {
    const translated = translatePcre(source, 're2')
    const re = new RE2(translated.source, 'sm')
    const caret = translated.hasCaret
    const inSet = prefilter?.register(translated.source) ?? -1
    // The last match, whose captures are computed once: the same value comes back request after request
    // (920420 captures the Content-Type of every request with a body).
    let lastMatched: string | undefined
    let lastMatch: OperatorMatch | undefined
    const operator: Operator = (input) => {
      if (input === lastMatched) return lastMatch!
      // Most values do not match: the rule set's RE2 sets (one pass for many patterns) or test() (RE2's DFA
      // only) says so; exec() (captures) runs on a hit.
      const known = inSet >= 0 ? prefilter!.matches(inSet, input, utf8Of) : undefined
      if (known === false || (known === undefined && !re.test(utf8Of(input)))) return null
      const bytes = utf8Of(input)
      // Captures are only read by rules with `capture`, and a negated rule's match is a miss: exec()
      // runs when they are asked for. PCRE's multiline `^` does not match after a newline that ends the
      // subject; RE2's does. A leftmost match at that very end can only come from such a `^` in CRS
      // patterns (`^$`), and needs the subject to end with a newline: only then is exec() run here.
      if (!caret || bytes[bytes.length - 1] !== 0x0a) {
        lastMatch = lazyCaptures(re, bytes)
        lastMatched = input
        return lastMatch
      }
      const m = re.exec(bytes)
      if (m !== null && m.index === bytes.length) return null
      return toMatchFromUtf8(m as BufferExecArray | null)
    }
    return { engine: 're2', operator }
  } catch (err) {
    re2Error = err
  }
  try {
    const translated = translatePcre(stripLeadingStar(source), 'js')
    // No `m` flag: the translation spells out PCRE's multiline `^` and `$`.
    const re = new RegExp(translated.source, 's' + translated.extraFlags)
    return {
      engine: 'js',
      operator: fallbackOperator(re, translated.groups, isStartAnchored(source), createPrefilter(source)),
    }
  } catch (jsError) {
    const why = re2Error instanceof Error ? re2Error.message : String(re2Error)
    throw new WafConfigError(
      'PAL_WAF_RX_INVALID',
      `@rx pattern does not compile: ${why}`,
      {},
      { cause: jsError },
    )
  }
}

export const rx: OperatorFactory = (param, ctx) => compileRegex(param, ctx.regexSet).operator
