/**
 * The SQL injection detector behind `@detectSQLi`: tokenizes the input in the three contexts an
 * injection can start in (as is, inside '...', inside "..."), folds each token list and classifies
 * it. Returns the fingerprint of the first context that reads as an injection, else `null`.
 */
import { isSqlInjection } from './classify.js'
import { foldSql } from './fold.js'
import { tokenizeSql } from './tokenizer.js'
import type { SqlContext, SqlToken } from './tokenizer.js'

/**
 * Raw tokens read per context. Every rule looks at the start of the input; the budget bounds the work
 * on long input while leaving room for padding an attacker puts before the injection.
 */
const MAX_TOKENS = 256
/** Fingerprint length, in tokens. */
const FINGERPRINT_TOKENS = 8

const CONTEXTS: readonly SqlContext[] = ['', "'", '"']

export function fingerprintOf(tokens: readonly SqlToken[]): string {
  let fp = ''
  for (let i = 0; i < tokens.length && i < FINGERPRINT_TOKENS; i++) fp += (tokens[i] as SqlToken).type
  return fp
}

/** The fingerprint of the first context whose tokens read as an SQL injection, or `null`. */
export function detectSqlInjection(input: string): string | null {
  for (const context of CONTEXTS) {
    // Without the quote character the whole input is one unterminated string in that context.
    if (context !== '' && !input.includes(context)) continue
    const { tokens, truncated } = tokenizeSql(input, context, MAX_TOKENS)
    const folded = foldSql(tokens)
    if (isSqlInjection(folded, truncated, context)) return fingerprintOf(folded)
  }
  return null
}
