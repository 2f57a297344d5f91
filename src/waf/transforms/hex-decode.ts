/**
 * Description: decodes hex pairs into bytes (`414243` → `ABC`). As in ModSecurity there is no
 * validation: every pair is converted with the same arithmetic (so non-hex characters give arbitrary
 * bytes) and a trailing odd character is dropped.
 * Arguments: none.
 * Example SecRule: SecRule ARGS:data "@rx <script" "id:1,phase:2,t:none,t:hexDecode,deny"
 */
import { latin1, x2c } from './bytes.js'

export function hexDecode(input: string): string {
  const pairs = input.length >> 1
  const out = new Uint8Array(pairs)
  for (let k = 0; k < pairs; k++) out[k] = x2c(input.charCodeAt(2 * k), input.charCodeAt(2 * k + 1))
  return latin1(out, pairs)
}
