/**
 * Description: turns each run of whitespace (C `isspace`: space, \t, \n, \v, \f, \r) into one space.
 * ModSecurity v2 also counted 0xa0 (NBSP) as whitespace; v3 does not, and we follow v3.
 * Arguments: none.
 * Example SecRule: SecRule ARGS "@rx union select" "id:1,phase:2,t:none,t:compressWhitespace,deny"
 */
const RUN = /[ \t\n\v\f\r]+/g
const NEEDS = /[\t\n\v\f\r]| {2}/

export function compressWhitespace(input: string): string {
  if (!NEEDS.test(input)) return input
  return input.replace(RUN, ' ')
}
