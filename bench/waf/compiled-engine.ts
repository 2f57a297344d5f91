/**
 * The compiled WAF engine the WAF benchmarks measure: `dist/` (what `palisade` runs; `npm run build` first), or
 * the directory in BENCH_SRC (bench/waf/compare.sh: an earlier commit's build).
 */
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type * as EdgeModule from '../../src/edge/index.js'
import type * as WafModule from '../../src/waf/index.js'

const src = process.env['BENCH_SRC']
const root = src ? `${pathToFileURL(resolve(src)).href}/` : new URL('../../dist/', import.meta.url).href

export const { createFsWafSource } = (await import(`${root}edge/index.js`)) as typeof EdgeModule
export const { createWaf, crsRuleSet, DEFAULT_WAF_SETTINGS, evaluateRequest } = (await import(
  `${root}waf/index.js`
)) as typeof WafModule
