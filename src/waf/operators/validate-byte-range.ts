/**
 * Description: matches when the input contains a byte outside the allowed ranges (an empty input
 * never matches). Ranges are comma-separated single values or `from-to`, each 0-255.
 * Arguments: the allowed bytes, e.g. `9,10,13,32-126,128-255`.
 * Example SecRule: SecRule ARGS "@validateByteRange 32-126" "id:1,phase:2,t:none,deny"
 */
import { WafConfigError } from '../errors.js'
import { MATCH_WITHOUT_CAPTURE } from './match-result.js'
import type { OperatorFactory } from './operator.js'

function byteValue(text: string, param: string): number {
  const t = text.trim()
  if (!/^\d{1,3}$/.test(t) || Number(t) > 255)
    throw new WafConfigError('PAL_WAF_BYTE_RANGE_INVALID', `@validateByteRange: invalid range "${param}"`)
  return Number(t)
}

export const validateByteRange: OperatorFactory = (param) => {
  const allowed = new Uint8Array(256)
  const parts = param.split(',').filter((p) => p.trim() !== '')
  if (parts.length === 0)
    throw new WafConfigError('PAL_WAF_BYTE_RANGE_INVALID', '@validateByteRange needs at least one range')
  for (const part of parts) {
    const dash = part.indexOf('-')
    const from = byteValue(dash === -1 ? part : part.slice(0, dash), param)
    const to = dash === -1 ? from : byteValue(part.slice(dash + 1), param)
    if (from > to)
      throw new WafConfigError('PAL_WAF_BYTE_RANGE_INVALID', `@validateByteRange: invalid range "${part}"`)
    allowed.fill(1, from, to + 1)
  }
  // A regex over the forbidden bytes runs in native code; the class is built once per rule.
  let forbidden = ''
  for (let c = 0; c < 256; c++) if (allowed[c] === 0) forbidden += '\\x' + c.toString(16).padStart(2, '0')
  if (forbidden === '') return () => null
  const re = new RegExp(`[${forbidden}]`)
  return (input) => (re.test(input) ? MATCH_WITHOUT_CAPTURE : null)
}
