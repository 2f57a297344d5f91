/**
 * Starts the edge for the benchmark: one route `bench.localhost` → the upstream given on the command line.
 * Usage: npm run build && node --import tsx bench/edge/edge-server.ts <listenPort> <upstreamPort> <accessLogFile>
 * BENCH_WAF=crs runs the real WAF with the OWASP CRS from /usr/share/modsecurity-crs (paranoia 1); otherwise the
 * hook is the allow-all inspector and this measures the gateway alone. BENCH_WAF=empty runs the WAF path (body
 * buffered, WAF request built, engine called) with a rule set of no rules: what inspecting costs besides the rules.
 * BENCH_NO_LOG=1 drops the access log.
 * BENCH_WORKERS=N runs N edge processes on the one listening socket (as `palisade serve --edge-workers N` does:
 * the cluster module with each worker accepting itself); the primary only holds the socket.
 */
import cluster from 'node:cluster'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import type * as AllowAllModule from '../../src/edge/allow-all-inspector.js'
import type * as EdgeModule from '../../src/edge/index.js'
import type * as WafModule from '../../src/waf/index.js'
import { benchRoute } from '../support/bench-route.js'

const benchWorkers = Number(process.env.BENCH_WORKERS ?? '1')
if (benchWorkers > 1 && cluster.isPrimary) {
  cluster.schedulingPolicy = cluster.SCHED_NONE
  // As the supervisor does: one accept per wake-up spreads connections over the workers.
  for (let i = 0; i < benchWorkers; i++) cluster.fork({ UV_TCP_SINGLE_ACCEPT: '1' })
  const stopAll = (): void => {
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM')
    setTimeout(() => process.exit(0), 1_000)
  }
  process.on('SIGTERM', stopAll)
  process.on('SIGINT', stopAll)
  // The workers' IPC channels keep this process alive; it never runs the edge itself.
  await new Promise<never>(() => undefined)
}

// The compiled output (`npm run build`; run.sh builds it), which is what `palisade serve` runs. BENCH_DIST
// names another build (an A/B comparison of two versions of the edge: bench/edge/ab.sh).
const dist = process.env.BENCH_DIST
  ? new URL(`file://${process.env.BENCH_DIST.replace(/\/?$/, '/')}`).href
  : new URL('../../dist/', import.meta.url).href
const { allowAllInspector } = (await import(`${dist}edge/allow-all-inspector.js`)) as typeof AllowAllModule
const { createEdge, createFsWafSource, createWafInspector, EDGE_DEFAULT_LIMITS } = (await import(
  `${dist}edge/index.js`
)) as typeof EdgeModule
const { createWaf, crsRuleSet, DEFAULT_WAF_SETTINGS, loadRuleSet } = (await import(
  `${dist}waf/index.js`
)) as typeof WafModule

const [listenPort, upstreamPort, logFile] = process.argv.slice(2)
if (!listenPort || !upstreamPort || !logFile) {
  console.error('usage: edge-server.ts <listenPort> <upstreamPort> <accessLogFile>')
  process.exit(2)
}
const dataDir = await mkdtemp(join(tmpdir(), 'palisade-bench-edge-'))
const logger = pino(pino.destination({ dest: logFile, sync: false, minLength: 4096 }))
const noLog = process.env.BENCH_NO_LOG === '1'
const benchWaf = process.env.BENCH_WAF
const crs =
  benchWaf === 'crs'
    ? createWaf(crsRuleSet('/usr/share/modsecurity-crs', { ...DEFAULT_WAF_SETTINGS }, createFsWafSource()))
    : benchWaf === 'empty'
      ? createWaf(
          loadRuleSet({ text: 'SecRuleEngine On\nSecRequestBodyAccess On\n', source: createFsWafSource() }),
        )
      : null
const inspector = crs ? createWafInspector(() => crs) : allowAllInspector
const edge = await createEdge(
  {
    httpListen: `127.0.0.1:${listenPort}`,
    httpsListen: '127.0.0.1:0',
    dataDir,
    baseDomain: 'localhost',
    limits: EDGE_DEFAULT_LIMITS,
    trustProxy: false,
  },
  noLog ? { inspector } : { inspector, logger },
)
edge.routes.upsert(benchRoute(Number(upstreamPort)))
await edge.listen()
console.log(`edge listening on 127.0.0.1:${listenPort}`)
const stop = (): void => {
  void edge
    .close()
    .then(() => rm(dataDir, { recursive: true, force: true }))
    .then(() => {
      logger.flush()
      process.exit(0)
    })
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
