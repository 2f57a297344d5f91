/**
 * What the engine's unit tests share: a WAF over inline SecLang (no rule files) and a plain GET request.
 * Not part of the build (tsconfig.build.json leaves `test-helpers.ts` out).
 */
import { loadRuleSet } from '../seclang/load.js'
import type { WafRequest, WafSource } from './types.js'
import { createWaf, type Waf, type WafOptions } from './waf.js'

/** A source with no files: the rules under test come as text. */
export const NO_FILES: WafSource = {
  readFile: () => {
    throw new Error('no files')
  },
  listFiles: () => [],
}

/** A WAF over SecLang given as text. */
export function wafOf(text: string, opts: WafOptions = {}): Waf {
  return createWaf(loadRuleSet({ text, source: NO_FILES }), opts)
}

/** A GET of `uri` with only a Host header, from 10.0.0.1. */
export function getRequest(uri: string, over: Partial<WafRequest> = {}): WafRequest {
  return {
    method: 'GET',
    uri,
    protocol: 'HTTP/1.1',
    headers: [['Host', 'example.com']],
    remoteAddr: '10.0.0.1',
    ...over,
  }
}
