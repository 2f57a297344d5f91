/**
 * The metrics path of `palisade serve` in its three processes, with a switch, for a same-process A/B of what the
 * monitor costs the edge. Production: each edge worker counts its requests (EdgeMetrics) and keeps each routed
 * request's log line (encodeAccessLine) in its per-environment ring for `palisade logs`; every 250 ms it sends the
 * counters since the last batch, and the lines of environments someone follows, to the supervisor, which relays
 * them to the control plane, which adds the counters (what `/metrics` reads) and hands the lines to the followers
 * (AccessLogFeed). BENCH_FEED: `kept` (default: nobody follows), `followed` (someone follows the environment: every
 * line travels), `metrics` (the counters alone). Here:
 *   control (this process, BENCH_ROLE unset) ── fork ──▶ relay (cluster primary) ── cluster.fork ──▶ worker (createEdge)
 * using the compiled modules `palisade serve` runs (dist/; `npm run build` first). SIGUSR1 to the worker turns the
 * feed on, SIGUSR2 off: the JIT state, heap and sockets stay the same across both halves of a pair, so only the
 * feed's own work differs (bench/monitor/pipeline-ab.sh alternates them). Prints `pids <control> <relay> <worker>`
 * once listening.
 * Usage: node --import tsx bench/monitor/pipeline.ts <listenPort> <upstreamPort> (bench/monitor/pipeline-ab.sh runs it). The
 * worker's access log goes to stderr, as in serve.
 */
import cluster from 'node:cluster'
import { fork } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type * as AllowAllModule from '../../src/edge/allow-all-inspector.js'
import type * as EdgeModule from '../../src/edge/index.js'
import type { EdgeSnapshot } from '../../src/edge/index.js'
import type * as MonitorModule from '../../src/monitor/index.js'
import type * as LogModule from '../../src/shared/log.js'
import { benchRoute } from '../support/bench-route.js'

const dist = new URL('../../dist/', import.meta.url).href
const [listenPort, upstreamPort] = process.argv.slice(2)
if (!listenPort || !upstreamPort) {
  console.error('usage: pipeline.ts <listenPort> <upstreamPort>')
  process.exit(2)
}
const role = process.env.BENCH_ROLE ?? 'control'
/** As in src/edge/workers/worker.ts: a batch leaves at least this often, or when this many lines wait. */
const FLUSH_MS = 250
const FLUSH_COUNT = 2_000

if (role === 'control') {
  const { EdgeMetrics } = (await import(`${dist}edge/index.js`)) as typeof EdgeModule
  const { AccessLogFeed } = (await import(`${dist}monitor/index.js`)) as typeof MonitorModule
  const metrics = new EdgeMetrics()
  const feed = new AccessLogFeed()
  // A follower of the bench's environment, as `palisade logs --follow` has (BENCH_FEED=followed sends its lines).
  let followedLines = 0
  feed.subscribe(benchRoute(0).environmentId, () => followedLines++)
  const relay = fork(fileURLToPath(import.meta.url), process.argv.slice(2), {
    env: { ...process.env, BENCH_ROLE: 'relay' },
    execArgv: process.execArgv,
  })
  relay.on(
    'message',
    (raw: { t: string; access?: string; metrics?: EdgeSnapshot | null; worker?: number }) => {
      if (raw.t === 'events') {
        // What the monitor's onWorkerEvents does with each batch (control-link.ts hands it over as it came).
        if (raw.metrics) metrics.add(raw.metrics)
        feed.deliverLines(raw.access ?? '')
      } else if (raw.t === 'ready') {
        console.log(`pids ${process.pid} ${relay.pid} ${raw.worker}`)
      }
    },
  )
  const stop = (): void => {
    // How many requests the monitor counted: the script checks it matches the "on" windows.
    const counted = Object.values(metrics.snapshot().environments).reduce(
      (n, c) => n + c.requests.reduce((a, b) => a + b, 0),
      0,
    )
    console.log(`counted ${counted}`)
    console.log(`followed ${followedLines}`)
    relay.kill('SIGTERM')
    setTimeout(() => process.exit(0), 1_500).unref()
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  relay.on('exit', () => process.exit(0))
} else if (role === 'relay' && cluster.isPrimary) {
  // As the supervisor: the worker accepts its own connections.
  cluster.schedulingPolicy = cluster.SCHED_NONE
  const worker = cluster.fork({ BENCH_ROLE: 'relay', UV_TCP_SINGLE_ACCEPT: '1' })
  // The supervisor hands each batch on as it came (one IPC message in, one out).
  worker.on('message', (raw: { t: string }) => {
    if (raw.t === 'events') process.send?.(raw)
    else if (raw.t === 'listening') process.send?.({ t: 'ready', worker: worker.process.pid })
  })
  process.on('SIGTERM', () => {
    worker.process.kill('SIGTERM')
    setTimeout(() => process.exit(0), 1_000).unref()
  })
} else {
  const { allowAllInspector } = (await import(`${dist}edge/allow-all-inspector.js`)) as typeof AllowAllModule
  const { AccessLineRing, createEdge, EDGE_DEFAULT_LIMITS, EdgeMetrics, encodeAccessLine } = (await import(
    `${dist}edge/index.js`
  )) as typeof EdgeModule
  const { createBufferedLogger, createLogger } = (await import(`${dist}shared/log.js`)) as typeof LogModule
  const dataDir = await mkdtemp(join(tmpdir(), 'palisade-bench-pipe-'))
  // The worker's access log, buffered and asynchronous as in serve (stderr, redirected to a file by the script).
  const access = createBufferedLogger({ level: 'info' })
  let feedOn = true
  const feedKind = process.env.BENCH_FEED ?? 'kept'
  // As the worker: each environment's newest lines, kept for `palisade logs` (not with BENCH_FEED=metrics).
  const kept = new AccessLineRing()
  const keepLines = feedKind !== 'metrics'
  const sendLines = feedKind === 'followed'
  let lines: string[] = []
  const metrics = new EdgeMetrics()
  const flush = (): void => {
    const counted = metrics.drain()
    if (lines.length === 0 && counted === null) return
    process.send?.({ t: 'events', waf: [], access: lines.join('\n'), metrics: counted })
    lines = []
  }
  setInterval(flush, FLUSH_MS).unref()
  process.on('SIGUSR1', () => (feedOn = true))
  process.on('SIGUSR2', () => (feedOn = false))
  const edge = await createEdge(
    {
      httpListen: `127.0.0.1:${listenPort}`,
      httpsListen: '127.0.0.1:0',
      dataDir,
      baseDomain: 'localhost',
      limits: EDGE_DEFAULT_LIMITS,
      trustProxy: false,
    },
    {
      inspector: allowAllInspector,
      logger: createLogger({ level: 'warn' }),
      accessLogger: access.logger,
      // As src/edge/workers/worker.ts does (the request counter for doctor aside).
      onAccessLog: (entry) => {
        if (!feedOn) return
        metrics.record(entry)
        const envId = entry.environmentId
        if (!keepLines || envId === null) return
        const line = encodeAccessLine(envId, entry, Date.now())
        kept.push(envId, line)
        if (!sendLines) return
        lines.push(line)
        if (lines.length >= FLUSH_COUNT) flush()
      },
    },
  )
  edge.routes.upsert(benchRoute(Number(upstreamPort)))
  await edge.listen()
  process.send?.({ t: 'listening' })
  process.on('SIGTERM', () => {
    void edge
      .close()
      .then(() => access.flush())
      .then(() => rm(dataDir, { recursive: true, force: true }))
      .then(() => process.exit(0))
  })
}
