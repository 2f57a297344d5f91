// The floor for any proxy written on Node's http module: ten lines, keep-alive upstream, no checks, no log.
// bench/edge/run.sh runs it beside the edge so that the edge's own cost can be told from Node's.
// Usage: node --import tsx bench/edge/minimal-proxy.ts <listenPort> <upstreamPort>
import http from 'node:http'

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
