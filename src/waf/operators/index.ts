import { beginsWith } from './begins-with.js'
import { containsWord } from './contains-word.js'
import { contains } from './contains.js'
import { isText } from './is-text.js'
import { detectSQLi } from './detect-sqli.js'
import { detectXSS } from './detect-xss.js'
import { endsWith } from './ends-with.js'
import { eq } from './eq.js'
import { ge } from './ge.js'
import { gt } from './gt.js'
import { ipMatchFromFile } from './ip-match-from-file.js'
import { ipMatch } from './ip-match.js'
import { le } from './le.js'
import { lt } from './lt.js'
import { noMatch } from './no-match.js'
import type { OperatorFactory } from './operator.js'
import { pmFromFile } from './pm-from-file.js'
import { pm } from './pm.js'
import { rx } from './rx.js'
import { streq } from './streq.js'
import { strmatch } from './strmatch.js'
import { unconditionalMatch } from './unconditional-match.js'
import { validateByteRange } from './validate-byte-range.js'
import { validateUrlEncoding } from './validate-url-encoding.js'
import { validateUtf8Encoding } from './validate-utf8-encoding.js'
import { within } from './within.js'

export type { Operator, OperatorCompileContext, OperatorFactory, OperatorMatch } from './operator.js'

/**
 * Every SecLang operator Palisade implements, keyed in SecLang spelling without the `@` (`rx`,
 * `pmFromFile`), with ModSecurity v3 semantics. A factory compiles the (macro-expanded) parameter
 * once and throws `WafConfigError` when it is invalid; the compiled operator never throws on traffic
 * (string operators return shared frozen results). `pmf` and `ipMatchF` are aliases of `pmFromFile` and `ipMatchFromFile`.
 * Not implemented (no I/O in the WAF): `geoLookup`, `rbl`, `inspectFile`, `fuzzyHash`, `verifyCC`/`CPF`/`SSN`.
 */
export const OPERATORS: ReadonlyMap<string, OperatorFactory> = new Map<string, OperatorFactory>([
  ['beginsWith', beginsWith],
  ['contains', contains],
  ['containsWord', containsWord],
  ['detectSQLi', detectSQLi],
  ['detectXSS', detectXSS],
  ['endsWith', endsWith],
  ['eq', eq],
  ['ge', ge],
  ['gt', gt],
  ['ipMatch', ipMatch],
  ['ipMatchFromFile', ipMatchFromFile],
  ['ipMatchF', ipMatchFromFile],
  ['isText', isText],
  ['le', le],
  ['lt', lt],
  ['noMatch', noMatch],
  ['pm', pm],
  ['pmFromFile', pmFromFile],
  ['pmf', pmFromFile],
  ['rx', rx],
  ['streq', streq],
  ['strmatch', strmatch],
  ['unconditionalMatch', unconditionalMatch],
  ['validateByteRange', validateByteRange],
  ['validateUrlEncoding', validateUrlEncoding],
  ['validateUtf8Encoding', validateUtf8Encoding],
  ['within', within],
])

const byLowerName: ReadonlyMap<string, OperatorFactory> = new Map(
  [...OPERATORS].map(([name, fn]) => [name.toLowerCase(), fn]),
)

/**
 * Finds an operator factory by name (without `@`), case-insensitively.
 * Returns `undefined` for an unknown name; the rule loader reports that as a configuration error.
 * @example findOperator('rx')?.('^a+$', ctx)('aaa') // { captures: ['aaa'] }
 */
export function findOperator(name: string): OperatorFactory | undefined {
  return byLowerName.get(name.toLowerCase())
}
