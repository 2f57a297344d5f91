/**
 * CPU cost of the monitor on the edge's hot path, measured without the network (a shared machine makes
 * requests-per-second comparisons noisy): nanoseconds per `onAccessLog` call (counters + log ring), against
 * the edge's own CPU time per request (from the rps of a run, 1 core).
 * Usage: node --import tsx bench/monitor/record-cost.ts
 */
import { EdgeMetrics, type AccessLogEntry } from '../../src/edge/index.js'
import { AccessLogFeed } from '../../src/monitor/index.js'

const metrics = new EdgeMetrics()
const feed = new AccessLogFeed()
const entries: AccessLogEntry[] = Array.from({ length: 64 }, (_, i) => ({
  requestId: `r${i}`,
  environmentId: `env_${i % 8}`,
  workspaceId: 'ws',
  clientIp: '203.0.113.9',
  method: ['GET', 'POST', 'PUT'][i % 3] as string,
  host: 'bench.localhost',
  path: `/p/${i}`,
  protocol: 'http',
  status: [200, 404, 500, 403][i % 4] as number,
  bytesOut: 100,
  durationMs: i / 10,
  outcome: i % 4 === 3 ? 'waf_block' : null,
  userAgent: 'wrk',
  referer: null,
  authorization: null,
  cookie: null,
  ...(i % 4 === 3 ? { ruleIds: ['942100', '949110'] } : {}),
}))
const N = 2_000_000
for (let i = 0; i < 200_000; i++) {
  const e = entries[i & 63] as AccessLogEntry
  metrics.record(e)
  feed.push(e, i)
}
const t0 = process.hrtime.bigint()
for (let i = 0; i < N; i++) {
  const e = entries[i & 63] as AccessLogEntry
  metrics.record(e)
  feed.push(e, i)
}
const ns = Number(process.hrtime.bigint() - t0) / N
console.log(`onAccessLog (counters + log ring): ${ns.toFixed(0)} ns per request`)
for (const rps of [5000, 10000, 20000])
  console.log(
    `  at ${rps} req/s on one core (${(1e9 / rps / 1000).toFixed(0)} µs per request): ${((ns / (1e9 / rps)) * 100).toFixed(2)} % of the edge's CPU`,
  )
