/**
 * The egress gateway's cost for an app's outbound HTTPS calls: the same HTTPS requests to a local TLS
 * server, direct and through the gateway (CONNECT over its Unix socket, as an app's HTTPS_PROXY reaches
 * it), both with one keep-alive tunnel and with a new connection per request. The gateway is told to
 * treat loopback as reachable (it refuses it in production). Usage:
 *   node --import tsx bench/egress/run.ts [requests] [concurrency]
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import https from 'node:https'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import tls from 'node:tls'
import { createEgressGateway } from '../../src/deploy/drivers/local/egress-gateway.js'

const total = Number(process.argv[2] ?? 4000)
const concurrency = Number(process.argv[3] ?? 16)
const dir = mkdtempSync(path.join(tmpdir(), 'pal-bench-egress-'))
execFileSync(
  'openssl',
  [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=api.example.test',
    '-addext',
    'subjectAltName=DNS:api.example.test',
    '-keyout',
    path.join(dir, 'key.pem'),
    '-out',
    path.join(dir, 'cert.pem'),
  ],
  { stdio: 'ignore' },
)
const cert = readFileSync(path.join(dir, 'cert.pem'))
const body = JSON.stringify({ ok: true, items: Array.from({ length: 20 }, (_, i) => ({ id: i })) })
const server = https.createServer({ key: readFileSync(path.join(dir, 'key.pem')), cert }, (_q, r) => {
  r.writeHead(200, { 'content-type': 'application/json' })
  r.end(body)
})
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
const port = (server.address() as net.AddressInfo).port
const gateway = createEgressGateway({
  socketDir: path.join(dir, 'egress'),
  onRefusal: (tag, target, reason) => console.error(`refused ${tag} ${target}: ${reason}`),
  resolve: async () => ['127.0.0.1'],
  isAllowedAddress: () => true,
})
const socket = await gateway.open('bench-app', { kind: 'public' })

/** A TLS socket to the server, direct or through a CONNECT tunnel on the gateway's socket. */
function connect(via: boolean): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const wrap = (raw?: net.Socket): void => {
      const s = tls.connect(
        {
          ...(raw ? { socket: raw } : { host: '127.0.0.1', port }),
          servername: 'api.example.test',
          ca: cert,
        },
        () => resolve(s),
      )
      s.once('error', reject)
    }
    if (!via) return wrap()
    const raw = net.connect(socket, () =>
      raw.write(`CONNECT api.example.test:${port} HTTP/1.1\r\nhost: api.example.test:${port}\r\n\r\n`),
    )
    raw.once('data', (chunk: Buffer) =>
      chunk.toString().startsWith('HTTP/1.1 200') ? wrap(raw) : reject(new Error(chunk.toString())),
    )
    raw.once('error', reject)
  })
}

/** One GET over `s` (HTTP/1.1 keep-alive); resolves when the whole body arrived. */
function get(s: tls.TLSSocket): Promise<void> {
  return new Promise((resolve) => {
    let buf = ''
    const on = (c: Buffer): void => {
      buf += c.toString()
      const end = buf.indexOf('\r\n\r\n')
      if (end !== -1 && buf.length - end - 4 >= body.length) {
        s.off('data', on)
        resolve()
      }
    }
    s.on('data', on)
    s.write('GET / HTTP/1.1\r\nhost: api.example.test\r\n\r\n')
  })
}

async function round(via: boolean, reuse: boolean): Promise<{ rps: number; p50: number; p99: number }> {
  const lat: number[] = []
  let next = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      let s = reuse ? await connect(via) : null
      while (next++ < total) {
        const t0 = performance.now()
        const conn = s ?? (await connect(via))
        await get(conn)
        if (!s) conn.destroy()
        lat.push(performance.now() - t0)
      }
      s?.destroy()
      s = null
    }),
  )
  const secs = (performance.now() - started) / 1000
  lat.sort((a, b) => a - b)
  return {
    rps: lat.length / secs,
    p50: lat[Math.floor(lat.length / 2)] ?? 0,
    p99: lat[Math.floor(lat.length * 0.99)] ?? 0,
  }
}

console.log(`${total} HTTPS GETs, ${concurrency} at a time, ${body.length}-byte JSON answer`)
for (const reuse of [true, false]) {
  const direct = await round(false, reuse)
  const gw = await round(true, reuse)
  const label = reuse ? 'keep-alive tunnel' : 'new connection per request'
  console.log(
    `${label}: direct ${direct.rps.toFixed(0)} rps (p50 ${direct.p50.toFixed(2)} ms, p99 ${direct.p99.toFixed(2)} ms); ` +
      `gateway ${gw.rps.toFixed(0)} rps (p50 ${gw.p50.toFixed(2)} ms, p99 ${gw.p99.toFixed(2)} ms); ` +
      `ratio ${(gw.rps / direct.rps).toFixed(2)}, added p50 ${(gw.p50 - direct.p50).toFixed(2)} ms`,
  )
}
await gateway.close()
server.close()
rmSync(dir, { recursive: true, force: true })
