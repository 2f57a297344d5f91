/**
 * Verdicts of an earlier commit's WAF engine (compiled in BENCH_OLD) and this checkout's (dist/, or BENCH_NEW) on
 * the same requests, compared whole: action, score, interruption and every matched rule with its texts, in order.
 * Requests: every case of the CRS 3.3.4 regression suite (on its test set-up, and on Palisade's with its own rule
 * set tests), the GoTestWAF corpus at paranoia 1-4, and the benign mix (bench/waf/benign-mix.ts) at paranoia 1-2.
 * A performance change to the engine must print `differences: 0`.
 * Run: bash bench/waf/commit-ab.sh-style old build, then
 *   BENCH_OLD=/tmp/old/dist node --import tsx bench/waf/verdict-diff.ts [benignRequests=20000]
 */
import { existsSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type * as EdgeModule from '../../src/edge/index.js'
import type * as RegressionModule from '../../src/waf/crs/regression.js'
import type * as WafModule from '../../src/waf/index.js'
import type { RuleSet, Waf, WafRequest } from '../../src/waf/index.js'
import { benignRequest } from './benign-mix.js'

const benignCount = Number(process.argv[2] ?? 20000)
const crsDir = process.env['PALISADE_CRS_DIR'] ?? '/usr/share/modsecurity-crs'
const testsDir =
  process.env['PALISADE_CRS_TESTS_DIR'] ??
  new URL('../../../shared/crs-3.3.4/regression/tests', import.meta.url).pathname
const corpus = new URL('../../../shared/waf-corpora/gotestwaf.jsonl', import.meta.url).pathname
const old = process.env['BENCH_OLD']
if (!old) throw new Error('BENCH_OLD=DIR (an earlier commit compiled) is required')
const fresh = process.env['BENCH_NEW']

async function engine(root: string) {
  const waf = (await import(`${root}waf/index.js`)) as typeof WafModule
  const edge = (await import(`${root}edge/index.js`)) as typeof EdgeModule
  const regression = (await import(`${root}waf/crs/regression.js`)) as typeof RegressionModule
  return { waf, edge, regression }
}
const dir = (d: string): string => `${pathToFileURL(resolve(d)).href}/`
const engines = [
  await engine(dir(old)),
  await engine(fresh ? dir(fresh) : new URL('../../dist/', import.meta.url).href),
]

function verdict(e: (typeof engines)[number], w: Waf, req: WafRequest): string {
  const v = e.waf.evaluateRequest(w, req)
  return JSON.stringify([v.action, v.score, v.rules, v.interruption, v.matched])
}

let compared = 0
let differences = 0
function compare(label: string, wafs: Waf[], requests: Iterable<WafRequest>): void {
  let n = 0
  let diff = 0
  for (const req of requests) {
    const a = verdict(engines[0]!, wafs[0]!, req)
    const b = verdict(engines[1]!, wafs[1]!, req)
    n++
    if (a !== b) {
      diff++
      if (diff <= 3)
        console.log(
          `  DIFF ${label} ${req.method} ${req.uri.slice(0, 80)}\n   old ${a.slice(0, 400)}\n   new ${b.slice(0, 400)}`,
        )
    }
  }
  compared += n
  differences += diff
  console.log(`${label}: ${n} requests, ${diff} differences`)
}

function both(make: (e: (typeof engines)[number]) => RuleSet): Waf[] {
  return engines.map((e) => e.waf.createWaf(make(e)))
}

// CRS regression suite: every case's request as the test runner sends it.
if (existsSync(testsDir)) {
  for (const [name, make] of [
    [
      'crs-regression',
      (e: (typeof engines)[number]) => e.regression.upstreamTestRuleSet(crsDir, e.edge.createFsWafSource()),
    ],
    [
      'palisade-regression',
      (e: (typeof engines)[number]) => e.regression.palisadeTestRuleSet(crsDir, e.edge.createFsWafSource()),
    ],
  ] as const) {
    const wafs = both(make)
    const r = engines[1]!.regression
    const files = [
      ...r.loadRegressionFiles(testsDir, engines[1]!.edge.createFsWafSource()),
      ...r.loadRegressionFiles(
        new URL('../../src/waf/crs/testdata/palisade', import.meta.url).pathname,
        engines[1]!.edge.createFsWafSource(),
      ),
    ]
    const requests: WafRequest[] = []
    for (const f of files)
      for (const c of f.cases) {
        const req = r.buildRequest(c.input)
        if (req) requests.push(r.apacheView(req))
      }
    compare(name, wafs, requests)
  }
} else console.log(`no CRS regression tests at ${testsDir}`)

// GoTestWAF corpus, paranoia 1-4 (as test/waf-gotestwaf.test.ts builds its requests).
if (existsSync(corpus)) {
  const bytes = (s: string): string => Buffer.from(s, 'utf8').toString('latin1')
  const cases = readFileSync(corpus, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map(
      (l) => JSON.parse(l) as { method: string; uri: string; headers: Record<string, string>; body?: string },
    )
  const requests = cases.map((c): WafRequest => {
    const headers = Object.entries(c.headers).map(([k, v]): [string, string] => [bytes(k), bytes(String(v))])
    const r: WafRequest = {
      method: c.method,
      uri: bytes(c.uri),
      protocol: 'HTTP/1.1',
      headers,
      remoteAddr: '203.0.113.9',
    }
    if (c.body) {
      r.body = new Uint8Array(Buffer.from(c.body, 'utf8'))
      headers.push(['Content-Length', String(r.body.byteLength)])
    }
    return r
  })
  for (const paranoia of [1, 2, 3, 4] as const) {
    const wafs = both((e) =>
      e.waf.crsRuleSet(crsDir, { ...e.waf.DEFAULT_WAF_SETTINGS, paranoia }, e.edge.createFsWafSource()),
    )
    // Twice: the second pass meets every value remembered (MissMemo, RE2 set answers).
    compare(`gotestwaf-pl${paranoia}`, wafs, [...requests, ...requests])
  }
} else console.log(`no GoTestWAF corpus at ${corpus}`)

// The benign mix.
for (const paranoia of [1, 2] as const) {
  const wafs = both((e) =>
    e.waf.crsRuleSet(crsDir, { ...e.waf.DEFAULT_WAF_SETTINGS, paranoia }, e.edge.createFsWafSource()),
  )
  const requests = function* () {
    for (let i = 1; i <= benignCount; i++) yield benignRequest(i)
  }
  compare(`benign-pl${paranoia}`, wafs, requests())
}
console.log(JSON.stringify({ compared, differences }))
if (differences > 0) process.exitCode = 1
