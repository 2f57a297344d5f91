/**
 * Where the engine's time goes, by ablation: variants of Palisade's CRS set-up (without the Palisade rule set,
 * without the default exclusions, without either) compiled by this checkout's engine (dist/), taking turns on the
 * same batches of new requests of bench/waf/benign-mix.ts in one process, so the machine's load falls on all alike.
 * Prints CPU µs per request of each variant.
 * Run: npm run build && node --import tsx bench/waf/ablate.ts [batches=40] [paranoia=1]
 */
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type * as EdgeModule from '../../src/edge/index.js'
import type * as RulesModule from '../../src/waf/crs/palisade-rules.js'
import type * as WafModule from '../../src/waf/index.js'
import type { WafRequest } from '../../src/waf/index.js'
import { benignRequest } from './benign-mix.js'

const batches = Number(process.argv[2] ?? 40)
const paranoia = Number(process.argv[3] ?? 1) as 1 | 2 | 3 | 4
const BATCH = 500
const crsDir = (process.env['PALISADE_CRS_DIR'] ?? '/usr/share/modsecurity-crs').replace(/\/$/, '')
const root = new URL('../../dist/', import.meta.url).href
const waf = (await import(`${root}waf/index.js`)) as typeof WafModule
const edge = (await import(`${root}edge/index.js`)) as typeof EdgeModule
const rules = (await import(`${root}waf/crs/palisade-rules.js`)) as typeof RulesModule
const setup = waf.crsSetupText({ ...waf.DEFAULT_WAF_SETTINGS, paranoia })
const source = edge.createFsWafSource()

function variant(name: string, exclusions: boolean, palisade: boolean, engine = waf) {
  const text = `${setup}\n${exclusions ? rules.PALISADE_EXCLUSIONS : ''}\nInclude ${crsDir}/rules/*.conf\n${palisade ? rules.PALISADE_RULES : ''}\n`
  const w = engine.createWaf(engine.loadRuleSet({ text, textName: `<${name}>`, source }))
  return { name, w, evaluate: (r: WafRequest) => engine.evaluateRequest(w, r), micros: 0, blocked: 0 }
}

const variants = [
  variant('full', true, true),
  variant('no-palisade-rules', true, false),
  variant('no-exclusions', false, true),
  variant('crs-only', false, false),
]
// BENCH_OLD=DIR: an earlier commit's compiled engine (dist/ of a worktree) on CRS alone, beside these.
const old = process.env['BENCH_OLD']
if (old) {
  const engine = (await import(`${pathToFileURL(resolve(old)).href}/waf/index.js`)) as typeof WafModule
  variants.push(variant('old-engine-crs-only', false, false, engine))
}
for (const v of variants)
  for (let i = 1; i <= 20000; i++) if (v.evaluate(benignRequest(i)).action === 'block') v.blocked++
let next = 20001
for (let b = 0; b < batches; b++) {
  const batch: WafRequest[] = Array.from({ length: BATCH }, () => benignRequest(next++))
  const order = b % 2 === 0 ? variants : [...variants].reverse()
  for (const v of order) {
    const cpu0 = process.cpuUsage()
    for (const r of batch) v.evaluate(r)
    const cpu = process.cpuUsage(cpu0)
    v.micros += cpu.user + cpu.system
  }
}
const n = batches * BATCH
for (const v of variants)
  console.log(
    JSON.stringify({
      variant: v.name,
      usPerRequest: Number((v.micros / n).toFixed(1)),
      falsePositivesInMix: v.blocked,
    }),
  )
