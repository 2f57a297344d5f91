import type { RegexSetPrefilter } from './regex-set.js'

/**
 * What an operator reports on a match. `captures[0]` is the whole match and `captures[1..9]`
 * the groups (ModSecurity's TX.0..TX.9 when the rule has `capture`). Operators that have nothing
 * to capture return an empty array. No match is `null`: an expected outcome, not an exception.
 */
export interface OperatorMatch {
  readonly captures: readonly string[]
}

/** A compiled operator: one call per (transformed) variable value. Input is a byte string. */
export type Operator = (input: string) => OperatorMatch | null

/** What an operator factory may use while compiling its parameter. */
export interface OperatorCompileContext {
  /** Reads a data file (`@pmFromFile`, `@ipMatchFromFile`); relative paths resolve against `baseDir`. */
  readonly readFile: (path: string) => string
  /** Directory of the rule file being compiled. */
  readonly baseDir: string
  /** The rule set's shared RE2 set (`@rx` registers its pattern there); absent: each regex runs alone. */
  readonly regexSet?: RegexSetPrefilter
}

/**
 * Compiles an operator's parameter (already macro-expanded by the engine) into an `Operator`.
 * Throws `WafConfigError` (src/waf/errors.ts) when the parameter is invalid.
 */
export type OperatorFactory = (param: string, ctx: OperatorCompileContext) => Operator
