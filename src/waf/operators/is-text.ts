/**
 * Description: (Palisade) matches when the input is ordinary text of the kind named by the parameter;
 * Palisade's default exclusions use it to keep a few CRS rules away from values that cannot carry the
 * attack those rules look for. One pass over the input, no regular expression (these checks match most
 * benign values, which is the costly case for the rule set's RE2 set).
 * - `prose`: two or more words (letters and digits in any script, inner `'` and `-`) separated by
 *   whitespace and sentence punctuation (`, . ! ? :`, quotes and brackets); no shell, SQL or markup
 *   syntax (`; | & $ \x60 < > = / \ * % { } [ ] # @ ~ ^ +`) and no word that starts with `-`.
 * - `utf8`: valid UTF-8 with at least one multi-byte character, and no `<` or `>`.
 * - `noPhpCall`: a `(` but none of `$ ' " \ { }`: a call, but nothing that can name a PHP function.
 * Arguments: `prose`, `utf8` or `noPhpCall`.
 * Example SecRule: SecRule ARGS "@isText prose" "id:9500001,phase:2,pass,nolog,ctl:'ruleRemoveTargetById=932150;%{MATCHED_VAR_NAME}'"
 */
import { WafConfigError } from '../errors.js'
import { MATCH_WITHOUT_CAPTURE } from './match-result.js'
import type { OperatorFactory } from './operator.js'
import { isValidUtf8 } from './validate-utf8-encoding.js'

const isWordChar = (c: number): boolean =>
  (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a) || c >= 0x80
const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d
/** Sentence punctuation that may sit around words: , . ! ? : " ' ( ) */
const PUNCT = new Set([0x2c, 0x2e, 0x21, 0x3f, 0x3a, 0x22, 0x27, 0x28, 0x29])

function isProse(s: string): boolean {
  let words = 0
  let inWord = false
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (isWordChar(c)) {
      if (!inWord) words++
      inWord = true
    } else if (c === 0x2d || c === 0x27) {
      // inner hyphen or apostrophe: only between word characters
      if (!inWord || !isWordChar(s.charCodeAt(i + 1))) {
        if (c === 0x2d) return false
        inWord = false
      }
    } else if (isSpace(c) || PUNCT.has(c)) inWord = false
    else return false
  }
  return words >= 2 && /\s/.test(s)
}

function isUtf8Text(s: string): boolean {
  let high = false
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 0x3c || c === 0x3e) return false
    if (c >= 0x80) high = true
  }
  return high && isValidUtf8(s)
}

const NO_PHP_CALL = new Set([0x24, 0x27, 0x22, 0x5c, 0x7b, 0x7d])
function isNoPhpCall(s: string): boolean {
  // Without `(` 933210 cannot match at all: nothing to exclude (and no ctl to run).
  if (!s.includes('(')) return false
  for (let i = 0; i < s.length; i++) if (NO_PHP_CALL.has(s.charCodeAt(i))) return false
  return true
}

const KINDS: Record<string, (s: string) => boolean> = {
  prose: isProse,
  utf8: isUtf8Text,
  nophpcall: isNoPhpCall,
}

export const isText: OperatorFactory = (param) => {
  const test = KINDS[param.trim().toLowerCase()]
  if (test === undefined)
    throw new WafConfigError(
      'PAL_WAF_OPERATOR_INVALID',
      `@isText takes prose, utf8 or noPhpCall, got '${param}'`,
    )
  return (input) => (test(input) ? MATCH_WITHOUT_CAPTURE : null)
}
