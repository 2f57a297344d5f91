/**
 * The WAF engine of an earlier commit (compiled in BENCH_OLD) and this checkout's (dist/), in one process,
 * taking turns on the same batches of new requests of bench/waf/benign-mix.ts, so the machine's changing
 * load falls on both alike (compare.sh runs them one after the other, which a shared, busy machine skews).
 * Prints CPU µs per request of each and requests per CPU second of each.
 * Run: bash bench/waf/commit-ab.sh COMMIT [batches=60] [paranoia=1]   (BENCH_SWAP=1: see `swap` below)
 */
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type * as EdgeModule from '../../src/edge/index.js'
import type * as WafModule from '../../src/waf/index.js'
import type { WafRequest } from '../../src/waf/index.js'
import { benignRequest } from './benign-mix.js'

const batches = Number(process.argv[2] ?? 60)
const paranoia = Number(process.argv[3] ?? 1) as 1 | 2 | 3 | 4
const BATCH = 500
const crsDir = process.env['PALISADE_CRS_DIR'] ?? '/usr/share/modsecurity-crs'
const old = process.env['BENCH_OLD']
if (!old) throw new Error('BENCH_OLD=DIR (an earlier commit compiled) is required')

async function engine(name: string, root: string) {
  const waf = (await import(`${root}waf/index.js`)) as typeof WafModule
  const edge = (await import(`${root}edge/index.js`)) as typeof EdgeModule
  const rules = waf.crsRuleSet(crsDir, { ...waf.DEFAULT_WAF_SETTINGS, paranoia }, edge.createFsWafSource())
  return { name, waf: waf.createWaf(rules), evaluate: waf.evaluateRequest, micros: 0, blocked: 0 }
}

// The order the engines are loaded and warmed up in skews the ratio by up to ~8 %, whatever their code (an A/A
// run gave afterOverBefore 0.92-0.93; the direction varies). BENCH_SWAP=1 loads this checkout's first: take
// sqrt(afterOverBefore × the swapped run's afterOverBefore).
const swap = process.env['BENCH_SWAP'] === '1'
const slots = [
  ['before', `${pathToFileURL(resolve(old)).href}/`],
  ['after', new URL('../../dist/', import.meta.url).href],
] as const
const engines: Array<Awaited<ReturnType<typeof engine>>> = []
for (const [name, root] of swap ? [...slots].reverse() : slots) engines.push(await engine(name, root))
// Warm-up: the same 20 000 requests through both (and false positives in the mix).
for (const e of engines)
  for (let i = 1; i <= 20000; i++) if (e.evaluate(e.waf, benignRequest(i)).action === 'block') e.blocked++
let next = 20001
for (let b = 0; b < batches; b++) {
  const batch: WafRequest[] = Array.from({ length: BATCH }, () => benignRequest(next++))
  for (const e of b % 2 === 0 ? engines : [...engines].reverse()) {
    const cpu0 = process.cpuUsage()
    for (const r of batch) e.evaluate(e.waf, r)
    const cpu = process.cpuUsage(cpu0)
    e.micros += cpu.user + cpu.system
  }
}
const n = batches * BATCH
const out: Record<string, number> = { paranoia, requests: n }
for (const e of engines) {
  out[`${e.name}UsPerRequest`] = Number((e.micros / n).toFixed(1))
  out[`${e.name}RpsPerCpuSecond`] = Math.round(n / (e.micros / 1e6))
  out[`${e.name}FalsePositivesInMix`] = e.blocked
}
const micros = (name: string): number => engines.find((e) => e.name === name)!.micros
out['afterOverBefore'] = Number((micros('after') / micros('before')).toFixed(3))
if (swap) out['swapped'] = 1
console.log(JSON.stringify(out))
