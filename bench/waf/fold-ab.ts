/**
 * What folding (src/waf/engine/fold.ts) saves: two WAFs over the same CRS set-up, one with folding and one
 * without, in one process, taking turns on the same batches of new requests of bench/waf/benign-mix.ts, so
 * the machine's changing speed falls on both alike. Prints CPU µs per request of each and their ratio.
 * Run: npm run build && node --import tsx bench/waf/fold-ab.ts [batches=60] [paranoia=1]
 */
import type { Waf, WafRequest } from '../../src/waf/index.js'
import { benignRequest } from './benign-mix.js'
import {
  createFsWafSource,
  createWaf,
  crsRuleSet,
  DEFAULT_WAF_SETTINGS,
  evaluateRequest,
} from './compiled-engine.js'

const batches = Number(process.argv[2] ?? 60)
const paranoia = Number(process.argv[3] ?? 1) as 1 | 2 | 3 | 4
const BATCH = 500
const crsDir = process.env['PALISADE_CRS_DIR'] ?? '/usr/share/modsecurity-crs'
const ruleSet = () => crsRuleSet(crsDir, { ...DEFAULT_WAF_SETTINGS, paranoia }, createFsWafSource())
const engines: Array<{ name: string; waf: Waf; micros: number }> = [
  { name: 'folded', waf: createWaf(ruleSet()), micros: 0 },
  { name: 'evaluated', waf: createWaf(ruleSet(), { fold: false }), micros: 0 },
]

// Warm-up: the same 20 000 requests through both.
for (const e of engines) for (let i = 1; i <= 20000; i++) evaluateRequest(e.waf, benignRequest(i))
let next = 20001
for (let b = 0; b < batches; b++) {
  const batch: WafRequest[] = Array.from({ length: BATCH }, () => benignRequest(next++))
  // Alternate who goes first, so neither always meets the batch's values first.
  for (const e of b % 2 === 0 ? engines : [...engines].reverse()) {
    const cpu0 = process.cpuUsage()
    for (const r of batch) evaluateRequest(e.waf, r)
    const cpu = process.cpuUsage(cpu0)
    e.micros += cpu.user + cpu.system
  }
}
const perRequest = (e: { micros: number }): number => e.micros / (batches * BATCH)
const [folded, evaluated] = engines as [(typeof engines)[0], (typeof engines)[0]]
console.log(
  JSON.stringify({
    paranoia,
    requests: batches * BATCH,
    foldedUsPerRequest: Number(perRequest(folded).toFixed(1)),
    evaluatedUsPerRequest: Number(perRequest(evaluated).toFixed(1)),
    evaluatedOverFolded: Number((evaluated.micros / folded.micros).toFixed(3)),
  }),
)
