/**
 * The edge for the metrics benchmark: one route `bench.localhost` → the upstream port given, with the access
 * log going to a file (as in production) and the monitor's counters on (`on`) or off (`off`).
 * Usage: node --import tsx bench/monitor/edge-server.ts <listenPort> <upstreamPort> <on|off> <accessLogFile>
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { allowAllInspector } from '../../src/edge/allow-all-inspector.js'
import { createEdge, EDGE_DEFAULT_LIMITS, EdgeMetrics } from '../../src/edge/index.js'
import { AccessLogFeed } from '../../src/monitor/index.js'
import { benchRoute } from '../support/bench-route.js'

const [listenPort, upstreamPort, mode, logFile] = process.argv.slice(2)
if (!listenPort || !upstreamPort || (mode !== 'on' && mode !== 'off') || !logFile) {
  console.error('usage: edge-server.ts <listenPort> <upstreamPort> <on|off> <accessLogFile>')
  process.exit(2)
}
const dataDir = await mkdtemp(join(tmpdir(), 'palisade-bench-mon-'))
const logger = pino(pino.destination({ dest: logFile, sync: false, minLength: 4096 }))
// What the monitor's onAccessLog does per request: the counters and the per-environment log ring.
const metrics = new EdgeMetrics()
const feed = new AccessLogFeed()
const edge = await createEdge(
  {
    httpListen: `127.0.0.1:${listenPort}`,
    httpsListen: '127.0.0.1:0',
    dataDir,
    baseDomain: 'localhost',
    limits: EDGE_DEFAULT_LIMITS,
    trustProxy: false,
  },
  mode === 'on'
    ? {
        inspector: allowAllInspector,
        logger,
        onAccessLog: (e) => {
          metrics.record(e)
          feed.push(e, Date.now())
        },
      }
    : { inspector: allowAllInspector, logger },
)
edge.routes.upsert(benchRoute(Number(upstreamPort)))
await edge.listen()
console.log(`edge (metrics ${mode}) listening on 127.0.0.1:${listenPort}`)
process.on('SIGTERM', () => {
  void edge
    .close()
    .then(() => rm(dataDir, { recursive: true, force: true }))
    .then(() => process.exit(0))
})
