/**
 * Requests per second of evaluateRequest on one core (this process), CRS 3.3.4 at paranoia 1,
 * Palisade's default set-up, with bench/waf/benign-mix.ts (pages, API reads, form and JSON bodies whose
 * values vary as real visitors' do).
 * Run: npm run build && node --import tsx bench/waf/eval-rps.ts [seconds] [paranoia]
 * It measures the compiled output in dist/, which is what `palisade` runs (through tsx, the sources run ~10 %
 * slower). BENCH_SRC=DIR runs the engine compiled in DIR instead (bench/waf/compare.sh: an earlier commit's).
 */
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type * as EdgeModule from '../../src/edge/index.js'
import type * as WafModule from '../../src/waf/index.js'
import type { WafRequest } from '../../src/waf/index.js'
import { benignRequest } from './benign-mix.js'

const src = process.env['BENCH_SRC']
const root = src ? `${pathToFileURL(resolve(src)).href}/` : new URL('../../dist/', import.meta.url).href
const { createFsWafSource } = (await import(`${root}edge/index.js`)) as typeof EdgeModule
const { createWaf, crsRuleSet, DEFAULT_WAF_SETTINGS, evaluateRequest } = (await import(
  `${root}waf/index.js`
)) as typeof WafModule

const seconds = Number(process.argv[2] ?? 10)
const paranoia = Number(process.argv[3] ?? 1) as 1 | 2 | 3 | 4
const crsDir = process.env['PALISADE_CRS_DIR'] ?? '/usr/share/modsecurity-crs'
const t0 = performance.now()
const ruleSet = crsRuleSet(crsDir, { ...DEFAULT_WAF_SETTINGS, paranoia }, createFsWafSource())
const loadMs = performance.now() - t0
const waf = createWaf(ruleSet)

// Prepared ahead, so the loop measures the engine and not the building of requests.
const mix: WafRequest[] = Array.from({ length: 20000 }, (_, i) => benignRequest(i + 1))

let blocked = 0
for (const r of mix) if (evaluateRequest(waf, r).action === 'block') blocked++
// warm-up
for (let i = 0; i < 2000; i++) evaluateRequest(waf, mix[i % mix.length]!)
let n = 0
const cpu0 = process.cpuUsage()
const start = performance.now()
const end = start + seconds * 1000
while (performance.now() < end) {
  for (let i = 0; i < 100; i++) evaluateRequest(waf, mix[n++ % mix.length]!)
}
const elapsed = (performance.now() - start) / 1000
const cpu = process.cpuUsage(cpu0)
// CPU seconds of this process: on a busy machine wall-clock rps understates one core's throughput.
const cpuSeconds = (cpu.user + cpu.system) / 1e6
console.log(
  JSON.stringify({
    paranoia,
    rules: ruleSet.rules.length,
    loadMs: Math.round(loadMs),
    requests: n,
    seconds: Number(elapsed.toFixed(2)),
    rps: Math.round(n / elapsed),
    cpuSeconds: Number(cpuSeconds.toFixed(2)),
    rpsPerCpuSecond: Math.round(n / cpuSeconds),
    usPerRequest: Number(((elapsed * 1e6) / n).toFixed(1)),
    falsePositivesInMix: blocked,
  }),
)
