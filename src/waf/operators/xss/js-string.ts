/**
 * The JavaScript-string context of `@detectXSS`: input pasted into a quoted JavaScript string
 * (`var q = '<input>'`) that closes the string, joins it with an operator and calls something,
 * then comments out or rejoins the rest: `'-alert(1)//`, `";alert(1)//`, `'-alert(1)-'`,
 * `');fetch('//x')//`. The call must be a name (or a parenthesised name, `(alert)(1)`) followed by
 * `(` or a template literal, and what follows the call must end the injection: the end of input,
 * a `//` or `<!--` comment, or an operator that reopens a string. Prose with apostrophes
 * (`it's -5 degrees`, `don't-alert me`) has no call after the operator and no quote at the start.
 * Linear: one pass, every step advances.
 */

const SPACE = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0c
const OPERATOR = new Set([...'-+*/%^|&,;?:<>=!~'].map((c) => c.charCodeAt(0)))
const isIdentStart = (c: number): boolean =>
  (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c === 0x24
const isIdent = (c: number): boolean => isIdentStart(c) || (c >= 0x30 && c <= 0x39)

/** Reads a name path (`alert`, `window.alert`, `top?.alert`, `a['b']`-free); returns the end or -1. */
function namePath(s: string, from: number): number {
  let i = from
  if (!isIdentStart(s.charCodeAt(i))) return -1
  for (;;) {
    while (i < s.length && isIdent(s.charCodeAt(i))) i++
    if (s.startsWith('?.', i) && isIdentStart(s.charCodeAt(i + 2))) i += 2
    else if (s.charCodeAt(i) === 0x2e && isIdentStart(s.charCodeAt(i + 1))) i += 1
    else return i
  }
}

/** Whether `input` breaks out of a JavaScript string literal and calls something. */
export function isJsStringBreakout(input: string): boolean {
  const n = input.length
  let i = 0
  while (i < n && SPACE(input.charCodeAt(i))) i++
  if (i >= n) return false
  // An escaped quote (\' or \") closes the string too when the application escapes only quotes.
  if (input.charCodeAt(i) === 0x5c) i++
  const quote = input.charCodeAt(i)
  if (quote !== 0x27 && quote !== 0x22 && quote !== 0x60) return false
  i++
  // Closing brackets of the expression the string was in: '); alert(1)//
  while (i < n && (SPACE(input.charCodeAt(i)) || ')]}'.includes(input[i]!))) i++
  let operators = 0
  while (i < n && (OPERATOR.has(input.charCodeAt(i)) || SPACE(input.charCodeAt(i)))) {
    if (!SPACE(input.charCodeAt(i))) operators++
    i++
  }
  if (operators === 0) return false
  // Prefixes of a call expression.
  for (const p of ['new ', 'void ', 'typeof ', 'await ']) if (input.startsWith(p, i)) i += p.length
  while (i < n && (input.charCodeAt(i) === 0x21 || SPACE(input.charCodeAt(i)))) i++
  let parenthesised = false
  if (input.charCodeAt(i) === 0x28) {
    parenthesised = true
    i++
  }
  const end = namePath(input, i)
  if (end < 0) return false
  i = end
  if (parenthesised) {
    if (input.charCodeAt(i) !== 0x29) return false
    i++
  }
  while (i < n && SPACE(input.charCodeAt(i))) i++
  if (input.startsWith('?.', i)) i += 2
  const open = input.charCodeAt(i)
  if (open !== 0x28 && open !== 0x60) return false
  // Skip the call's arguments: to the matching ) (or the closing backtick).
  let depth = 0
  let j = i
  if (open === 0x60) {
    const close = input.indexOf('`', i + 1)
    if (close < 0) return false
    j = close + 1
  } else {
    for (; j < n; j++) {
      const c = input.charCodeAt(j)
      if (c === 0x28) depth++
      else if (c === 0x29 && --depth === 0) break
    }
    if (j >= n) return false
    j++
  }
  while (j < n && (SPACE(input.charCodeAt(j)) || input.charCodeAt(j) === 0x3b)) j++
  if (j >= n) return true
  if (input.startsWith('//', j) || input.startsWith('<!--', j)) return true
  // Rejoin: an operator, then a quote that reopens the string ('-alert(1)-').
  let k = j
  let ops = 0
  while (k < n && (OPERATOR.has(input.charCodeAt(k)) || SPACE(input.charCodeAt(k)))) {
    if (!SPACE(input.charCodeAt(k))) ops++
    k++
  }
  return ops > 0 && k < n && (input.charCodeAt(k) === quote || input.charCodeAt(k) === 0x5c)
}
