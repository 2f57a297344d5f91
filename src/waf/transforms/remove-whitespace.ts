/**
 * Description: removes every whitespace byte (C `isspace`: space, \t, \n, \v, \f, \r) and NBSP (0xa0).
 * Arguments: none.
 * Example SecRule: SecRule ARGS "@rx unionselect" "id:1,phase:2,t:none,t:removeWhitespace,deny"
 */
const WHITESPACE = /[ \t\n\v\f\r\xa0]+/g

export function removeWhitespace(input: string): string {
  return input.replace(WHITESPACE, '')
}
