/**
 * Folding: rewrites a raw token list into the smaller shape the classifier reads.
 * - qualified names `a.b`, `a..b`, `t.*` become one name; a string followed by a string is one string
 * - two-word forms become one token: UNION ALL, ORDER BY, GROUP BY, WAITFOR DELAY, NOT LIKE, IS NOT ...
 * - a known function name followed by `(` becomes `f`
 * - unary operators (`-1`, `!x`, `NOT x`) and runs of arithmetic operators are dropped
 */
import { FUNCTION_NAMES, PACKAGE_PREFIXES } from './keywords.js'
import type { SqlToken } from './tokenizer.js'

const UNARY = new Set(['-', '+', '!', '~', 'NOT', '\\', 'BINARY'])
/** After these a unary operator cannot be binary. */
const BEFORE_UNARY = new Set(['o', '&', '(', ',', ';', 'k', 'E', 'U'])

function isCallable(name: string): boolean {
  if (FUNCTION_NAMES.has(name)) return true
  const dot = name.lastIndexOf('.')
  if (dot >= 0 && FUNCTION_NAMES.has(name.slice(dot + 1))) return true
  for (const p of PACKAGE_PREFIXES) if (name.startsWith(p)) return true
  return false
}

export function foldSql(raw: readonly SqlToken[]): SqlToken[] {
  const out: SqlToken[] = []
  for (let i = 0; i < raw.length; i++) {
    const t = { ...(raw[i] as SqlToken) }
    const last = out[out.length - 1]
    if (t.type === '.' && last !== undefined && (last.type === 'n' || last.type === 'v')) {
      // a.b  a..b  a.*
      let j = i + 1
      while (raw[j]?.type === '.') j++
      const next = raw[j]
      if (
        next !== undefined &&
        (next.type === 'n' || next.type === 'k' || next.type === 'f' || next.text === '*')
      ) {
        last.text = `${last.text}.${next.text}`
        i = j
        continue
      }
    }
    if (t.type === '.' && last?.type === 's') {
      // 'x'.sleep(1).'  string concatenation in the host language
      out.push({ ...t, type: 'o', text: '.' })
      continue
    }
    if (last === undefined) {
      if (t.type === 'o' && !t.cmp && UNARY.has(t.text)) continue
      out.push(t)
      continue
    }
    switch (t.type) {
      case 's':
        if (last.type === 's') {
          last.closed = t.closed // adjacent strings concatenate
          last.spaced = t.spaced
          continue
        }
        break
      case 'k':
        if (last.type === 'U' && (t.text === 'ALL' || t.text === 'DISTINCT')) continue
        if (
          last.type === 'E' &&
          last.text === 'SELECT' &&
          (t.text === 'ALL' || t.text === 'DISTINCT' || t.text === 'TOP')
        )
          continue
        if (last.type === 'E' && last.text === 'WAITFOR' && t.text === 'DELAY') continue
        if (last.type === 'k' && (last.text === 'ORDER' || last.text === 'GROUP') && t.text === 'BY') {
          last.text = `${last.text} BY`
          continue
        }
        break
      case 'n':
        if (last.type === 'E' && last.text === 'WAITFOR' && t.text === 'TIME') continue
        break
      case 'o':
        if (t.cmp && last.type === 'o' && (last.text === 'NOT' || last.text === 'SOUNDS')) {
          out[out.length - 1] = t
          continue
        }
        if (t.text === 'NOT' && last.type === 'o' && last.text === 'IS') continue
        if (!t.cmp && UNARY.has(t.text) && BEFORE_UNARY.has(last.type)) continue
        if (!t.cmp && last.type === 'o' && !last.cmp) continue
        break
      case '(':
        if (
          (last.type === 'n' ||
            last.type === 'E' ||
            last.type === 'k' ||
            last.type === '1' ||
            last.type === 'o') &&
          isCallable(last.text)
        ) {
          last.type = 'f'
        }
        break
      case 'c':
        if (last.type === 'c') continue
        break
      default:
        break
    }
    out.push(t)
  }
  return out
}
