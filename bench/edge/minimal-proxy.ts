// The floor for any proxy written on Node's http module: ten lines, keep-alive upstream, no checks, no log.
// bench/edge/run.sh runs it beside the edge so that the edge's own cost can be told from Node's.
// Usage: node --import tsx bench/edge/minimal-proxy.ts <listenPort> <upstreamPort>
// BENCH_WORKERS=N runs N processes on the one socket, as bench/edge/edge-server.ts runs the edge (cluster,
// SCHED_NONE, one accept per wake-up): the floor at equal workers (bench/edge/ab.sh MIN_WORKERS).
import cluster from 'node:cluster'
import http from 'node:http'

const workers = Number(process.env.BENCH_WORKERS ?? '1')
if (workers > 1 && cluster.isPrimary) {
  cluster.schedulingPolicy = cluster.SCHED_NONE
  for (let i = 0; i < workers; i++) cluster.fork({ UV_TCP_SINGLE_ACCEPT: '1' })
  const stopAll = (): void => {
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM')
    setTimeout(() => process.exit(0), 1_000)
  }
  process.on('SIGTERM', stopAll)
  process.on('SIGINT', stopAll)
} else {
  const [listenPort, upstreamPort] = process.argv.slice(2).map(Number)
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 })
  http
    .createServer((req, res) => {
      const up = http.request(
        {
          host: '127.0.0.1',
          port: upstreamPort,
          method: req.method,
          path: req.url,
          headers: req.headers,
          agent,
        },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers)
          r.pipe(res)
        },
      )
      up.on('error', () => res.destroy())
      req.pipe(up)
    })
    .listen(listenPort, '127.0.0.1')
}
