/**
 * Description: @detectXSS reports whether the input reads as a cross-site scripting payload. It is
 * Palisade's own HTML5-aware detector (libinjection-equivalent, not libinjection): it scans the input
 * as HTML starting in text and inside unquoted, single-, double- and back-quoted attribute values, and
 * flags script-running tags, event handlers, script URLs and dangerous styles. As in ModSecurity, a
 * match captures the whole input as TX.0 (there is no XSS fingerprint).
 * Arguments: none (the parameter is ignored).
 * Example SecRule:
 *   SecRule ARGS "@detectXSS" "id:941100,phase:2,block,\
 *     t:none,t:utf8toUnicode,t:urlDecodeUni,t:htmlEntityDecode,\
 *     t:jsDecode,t:cssDecode,t:removeNulls,msg:'XSS Attack Detected via libinjection'"
 */
import type { OperatorFactory } from './operator.js'
import { detectXssReason } from './xss/detect.js'

export const detectXSS: OperatorFactory = () => (input) =>
  detectXssReason(input) === null ? null : { captures: [input] }
