import assert from 'node:assert/strict'
import { X509Certificate } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import { request } from 'node:https'
import { join } from 'node:path'
import { test } from 'node:test'
import { connect } from 'node:tls'
import { LocalCa } from '../src/edge/local-ca.js'
import { send, startEdge, startUpstream, testRoute } from '../src/edge/testing.js'

function httpsGet(
  port: number,
  host: string,
  ca: string,
): Promise<{ status: number; headers: Record<string, unknown>; body: string; issuer: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, servername: host, headers: { host }, ca, agent: false, path: '/' },
      (res) => {
        const chunks: Buffer[] = []
        const issuer = String(
          (res.socket as import('node:tls').TLSSocket).getPeerCertificate().issuer?.CN ?? '',
        )
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
            issuer,
          }),
        )
      },
    )
    req.on('error', reject)
    req.end()
  })
}

test('HTTPS serves a routed host with a certificate that verifies against the exported CA, with HSTS', async (t) => {
  const a = await startUpstream('a')
  const e = await startEdge()
  t.after(() => Promise.all([a.close(), e.stop()]))
  e.edge.routes.upsert(
    testRoute({
      environmentId: 'env_tls',
      hosts: ['main.shop.acme.localhost', 'shop.example.com'],
      hsts: true,
      target: { kind: 'proxy', upstream: { host: '127.0.0.1', port: a.port } },
    }),
  )
  const caPem = await readFile(join(e.dataDir, 'edge', 'ca', 'ca.crt'), 'utf8')
  assert.equal(caPem, e.edge.ca.caCertPem)
  const res = await httpsGet(e.httpsPort, 'main.shop.acme.localhost', caPem)
  assert.equal(res.status, 200)
  assert.match(res.issuer, /Palisade local CA/)
  assert.match(String(res.headers['strict-transport-security']), /max-age=\d+/)
  const upstream = a.seen[0]?.headers ?? {}
  assert.equal(upstream['x-forwarded-proto'], 'https')
  const custom = await httpsGet(e.httpsPort, 'shop.example.com', caPem)
  assert.equal(custom.status, 200)

  const keyMode = (await stat(join(e.dataDir, 'edge', 'ca', 'ca.key'))).mode & 0o777
  assert.equal(keyMode, 0o600)
  const leafMode = (await stat(join(e.dataDir, 'edge', 'certs', 'main.shop.acme.localhost.key'))).mode & 0o777
  assert.equal(leafMode, 0o600)
})

test('HTTPS without HSTS on the route sends no HSTS header', async (t) => {
  const a = await startUpstream('a')
  const e = await startEdge()
  t.after(() => Promise.all([a.close(), e.stop()]))
  e.edge.routes.upsert(
    testRoute({
      environmentId: 'env_tls',
      hosts: ['plain.localhost'],
      target: { kind: 'proxy', upstream: { host: '127.0.0.1', port: a.port } },
    }),
  )
  const res = await httpsGet(e.httpsPort, 'plain.localhost', e.edge.ca.caCertPem)
  assert.equal(res.status, 200)
  assert.equal(res.headers['strict-transport-security'], undefined)
})

test('a TLS handshake for a name that is not routed fails, even under the base domain', async (t) => {
  const e = await startEdge()
  t.after(() => e.stop())
  for (const servername of ['unrouted.localhost', 'evil.example']) {
    const error = await new Promise<Error | null>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: e.httpsPort, servername, ca: e.edge.ca.caCertPem })
      socket.on('secureConnect', () => {
        socket.destroy()
        resolve(null)
      })
      socket.on('error', resolve)
    })
    assert.ok(error, `handshake for ${servername} succeeded`)
  }
})

test('a request whose Host differs from the TLS name is refused with 421', async (t) => {
  const a = await startUpstream('a')
  const e = await startEdge()
  t.after(() => Promise.all([a.close(), e.stop()]))
  for (const [id, host] of [
    ['env_1', 'one.localhost'],
    ['env_2', 'two.localhost'],
  ] as const) {
    e.edge.routes.upsert(
      testRoute({
        environmentId: id,
        hosts: [host],
        target: { kind: 'proxy', upstream: { host: '127.0.0.1', port: a.port } },
      }),
    )
  }
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: e.httpsPort,
        servername: 'one.localhost',
        headers: { host: 'two.localhost' },
        ca: e.edge.ca.caCertPem,
        agent: false,
      },
      (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
      },
    )
    req.on('error', reject)
    req.end()
  })
  assert.equal(status, 421)
  assert.equal(a.seen.length, 0)
})

test('the local CA is created once and reused on the next start', async (t) => {
  const e = await startEdge()
  t.after(() => e.stop())
  const again = await LocalCa.open(e.dataDir)
  assert.equal(again.caCertPem, e.edge.ca.caCertPem)
  const first = await again.certificateFor('x.localhost')
  const reopened = await LocalCa.open(e.dataDir)
  assert.equal((await reopened.certificateFor('x.localhost')).cert, first.cert)
})

test('ACME HTTP-01 challenges are answered on plain HTTP, before any HTTPS redirect', async (t) => {
  const e = await startEdge()
  t.after(() => e.stop())
  e.edge.routes.upsert(
    testRoute({ environmentId: 'env_c', hosts: ['shop.example.com'], httpsRedirect: true }),
  )
  e.edge.challenges.set('tok_abc-123', 'tok_abc-123.thumbprint')
  const answer = await send(e.httpPort, {
    host: 'shop.example.com',
    path: '/.well-known/acme-challenge/tok_abc-123',
  })
  assert.equal(answer.status, 200)
  assert.equal(answer.body, 'tok_abc-123.thumbprint')
  const unknown = await send(e.httpPort, {
    host: 'shop.example.com',
    path: '/.well-known/acme-challenge/other',
  })
  assert.equal(unknown.status, 308)
  e.edge.challenges.delete('tok_abc-123')
  const gone = await send(e.httpPort, {
    host: 'shop.example.com',
    path: '/.well-known/acme-challenge/tok_abc-123',
  })
  assert.equal(gone.status, 308)
  assert.equal(e.edge.acme, null) // off unless configured
})

/** The leaf the edge serves for `host` (no verification: only its fingerprint and end are read). */
function servedLeaf(port: number, host: string): Promise<{ fingerprint: string; validTo: number }> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1', servername: host, rejectUnauthorized: false }, () => {
      const c = s.getPeerCertificate()
      s.end()
      resolve({ fingerprint: c.fingerprint256, validTo: Date.parse(c.valid_to) })
    })
    s.on('error', reject)
  })
}

test('renewCertificates re-issues the leaves of routed hosts inside the 14-day window (or within aheadMs of it) by the edge clock, and the edge serves the new one', async (t) => {
  const DAY = 86_400_000
  let offset = 0
  const e = await startEdge({ now: () => Date.now() + offset })
  t.after(() => e.stop())
  const route = (hosts: string[]) =>
    e.edge.routes.upsert(
      testRoute({
        environmentId: 'env_renew',
        hosts,
        target: { kind: 'proxy', upstream: { host: '127.0.0.1', port: 9 } },
      }),
    )
  route(['renew.localhost', 'gone.localhost'])
  const first = await servedLeaf(e.httpsPort, 'renew.localhost')
  await servedLeaf(e.httpsPort, 'gone.localhost')
  assert.ok(Math.abs(first.validTo - (Date.now() + 90 * DAY)) < DAY, 'a 90-day leaf')
  assert.deepEqual(await e.edge.renewCertificates(), [], 'nothing is due')

  // 75 days later, 15 left: not due, unless the caller asks for two days ahead.
  offset = 75 * DAY
  assert.deepEqual(await e.edge.renewCertificates(), [])
  assert.equal((await servedLeaf(e.httpsPort, 'renew.localhost')).fingerprint, first.fingerprint)
  // gone.localhost leaves the route table: its leaf is not renewed.
  route(['renew.localhost'])
  assert.deepEqual(await e.edge.renewCertificates(2 * DAY), ['renew.localhost'])
  const renewed = await servedLeaf(e.httpsPort, 'renew.localhost')
  assert.notEqual(renewed.fingerprint, first.fingerprint)
  assert.ok(Math.abs(renewed.validTo - (Date.now() + offset + 90 * DAY)) < DAY, '90 days from the edge clock')
  const onDisk = new X509Certificate(
    await readFile(join(e.dataDir, 'edge', 'certs', 'renew.localhost.crt'), 'utf8'),
  )
  assert.equal(Date.parse(onDisk.validTo), renewed.validTo, 'the renewed leaf is the one on disk')
  assert.deepEqual(await e.edge.renewCertificates(2 * DAY), [], 'renewed once')
})
