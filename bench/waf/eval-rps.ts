/**
 * Requests per second of evaluateRequest on one core (this process), CRS 3.3.4 at paranoia 1,
 * Palisade's default set-up, with bench/waf/benign-mix.ts (pages, API reads, form and JSON bodies whose
 * values vary as real visitors' do).
 * Run: npm run build && node --import tsx bench/waf/eval-rps.ts [seconds] [paranoia]
 * It measures the compiled output in dist/, which is what `palisade` runs (through tsx, the sources run ~10 %
 * slower). BENCH_SRC=DIR runs the engine compiled in DIR instead (bench/waf/compare.sh: an earlier commit's).
 */
import type { WafRequest } from '../../src/waf/index.js'
import { benignRequest } from './benign-mix.js'
import {
  createFsWafSource,
  createWaf,
  crsRuleSet,
  DEFAULT_WAF_SETTINGS,
  evaluateRequest,
} from './compiled-engine.js'

const seconds = Number(process.argv[2] ?? 10)
const paranoia = Number(process.argv[3] ?? 1) as 1 | 2 | 3 | 4
const crsDir = process.env['PALISADE_CRS_DIR'] ?? '/usr/share/modsecurity-crs'
const t0 = performance.now()
const ruleSet = crsRuleSet(crsDir, { ...DEFAULT_WAF_SETTINGS, paranoia }, createFsWafSource())
const loadMs = performance.now() - t0
const waf = createWaf(ruleSet)

// The first 20 000 requests of the mix warm the engine up and count false positives.
let blocked = 0
for (let i = 1; i <= 20000; i++) if (evaluateRequest(waf, benignRequest(i)).action === 'block') blocked++

// Then requests never seen before, built in batches outside the timed part: the clock and the CPU
// counter only run while the engine evaluates.
const BATCH = 500
let n = 0
let next = 20001
let timed = 0
let cpuMicros = 0
while (timed < seconds * 1000) {
  const batch: WafRequest[] = Array.from({ length: BATCH }, () => benignRequest(next++))
  const cpu0 = process.cpuUsage()
  const t = performance.now()
  for (const r of batch) evaluateRequest(waf, r)
  timed += performance.now() - t
  const cpu = process.cpuUsage(cpu0)
  cpuMicros += cpu.user + cpu.system
  n += BATCH
}
const elapsed = timed / 1000
// CPU seconds of this process: on a busy machine wall-clock rps understates one core's throughput.
const cpuSeconds = cpuMicros / 1e6
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
