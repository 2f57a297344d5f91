/**
 * Description: @detectSQLi reports whether the input reads as an SQL injection. It is Palisade's own
 * tokenizing detector (libinjection-equivalent, not libinjection): it tokenizes the input as SQL in
 * three contexts (as is, after a single quote, after a double quote), folds trivial sequences and
 * classifies the token sequence. On a match the capture is the token fingerprint (e.g. `s&1o1c`),
 * which ModSecurity rules read as TX.0.
 * Arguments: none (the parameter is ignored).
 * Example SecRule:
 *   SecRule ARGS "@detectSQLi" "id:942100,phase:2,block,capture,\
 *     t:none,t:utf8toUnicode,t:urlDecodeUni,t:removeNulls,\
 *     msg:'SQL Injection Attack Detected via libinjection',logdata:'Matched Data: %{TX.0}'"
 */
import type { OperatorFactory } from './operator.js'
import { detectSqlInjection } from './sqli/detect.js'

export const detectSQLi: OperatorFactory = () => (input) => {
  const fingerprint = detectSqlInjection(input)
  return fingerprint === null ? null : { captures: [fingerprint] }
}
