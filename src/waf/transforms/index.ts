import { base64Decode } from './base64-decode.js'
import { base64DecodeExt } from './base64-decode-ext.js'
import { base64Encode } from './base64-encode.js'
import { cmdLine } from './cmd-line.js'
import { compressWhitespace } from './compress-whitespace.js'
import { cssDecode } from './css-decode.js'
import { escapeSeqDecode } from './escape-seq-decode.js'
import { hexDecode } from './hex-decode.js'
import { hexEncode } from './hex-encode.js'
import { htmlEntityDecode } from './html-entity-decode.js'
import { jsDecode } from './js-decode.js'
import { length } from './length.js'
import { lowercase } from './lowercase.js'
import { md5 } from './md5.js'
import { none } from './none.js'
import { normalisePath } from './normalise-path.js'
import { normalisePathWin } from './normalise-path-win.js'
import { removeComments } from './remove-comments.js'
import { removeCommentsChar } from './remove-comments-char.js'
import { removeNulls } from './remove-nulls.js'
import { removeWhitespace } from './remove-whitespace.js'
import { replaceComments } from './replace-comments.js'
import { replaceNulls } from './replace-nulls.js'
import { sha1 } from './sha1.js'
import { sqlHexDecode } from './sql-hex-decode.js'
import { trim } from './trim.js'
import { trimLeft } from './trim-left.js'
import { trimRight } from './trim-right.js'
import { uppercase } from './uppercase.js'
import { urlDecode } from './url-decode.js'
import { urlDecodeUni } from './url-decode-uni.js'
import { urlEncode } from './url-encode.js'
import { utf8toUnicode } from './utf8-to-unicode.js'
import type { Transform } from './transform.js'

export type { Transform } from './transform.js'

/**
 * Every SecLang transformation Palisade implements, keyed in SecLang spelling (`urlDecodeUni`), with
 * ModSecurity v3 semantics (differences from v2 are noted in each file).
 * Transformations take and return byte strings (code units 0..255) and never throw.
 * `normalizePath` and `normalizePathWin` are aliases of the British spellings.
 */
export const TRANSFORMS: ReadonlyMap<string, Transform> = new Map<string, Transform>([
  ['base64Decode', base64Decode],
  ['base64DecodeExt', base64DecodeExt],
  ['base64Encode', base64Encode],
  ['cmdLine', cmdLine],
  ['compressWhitespace', compressWhitespace],
  ['cssDecode', cssDecode],
  ['escapeSeqDecode', escapeSeqDecode],
  ['hexDecode', hexDecode],
  ['hexEncode', hexEncode],
  ['htmlEntityDecode', htmlEntityDecode],
  ['jsDecode', jsDecode],
  ['length', length],
  ['lowercase', lowercase],
  ['md5', md5],
  ['none', none],
  ['normalisePath', normalisePath],
  ['normalizePath', normalisePath],
  ['normalisePathWin', normalisePathWin],
  ['normalizePathWin', normalisePathWin],
  ['removeComments', removeComments],
  ['removeCommentsChar', removeCommentsChar],
  ['removeNulls', removeNulls],
  ['removeWhitespace', removeWhitespace],
  ['replaceComments', replaceComments],
  ['replaceNulls', replaceNulls],
  ['sha1', sha1],
  ['sqlHexDecode', sqlHexDecode],
  ['trim', trim],
  ['trimLeft', trimLeft],
  ['trimRight', trimRight],
  ['uppercase', uppercase],
  ['urlDecode', urlDecode],
  ['urlDecodeUni', urlDecodeUni],
  ['urlEncode', urlEncode],
  ['utf8toUnicode', utf8toUnicode],
])

const byLowerName: ReadonlyMap<string, Transform> = new Map(
  [...TRANSFORMS].map(([name, fn]) => [name.toLowerCase(), fn]),
)

/**
 * Finds a transformation by name, case-insensitively (CRS writes both `t:base64Decode` and `t:base64decode`).
 * Returns `undefined` for an unknown name; the rule loader reports that as a configuration error.
 * @example findTransform('urlDecodeUni')?.('%u0041') // 'A'
 */
export function findTransform(name: string): Transform | undefined {
  return byLowerName.get(name.toLowerCase())
}
