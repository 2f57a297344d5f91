import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { test } from 'node:test'
import { waitHealthy } from '../src/deploy/health-check.js'

test('a failed health check says what the app answered, and a long wait is reported while it lasts', async (t) => {
  const server = createServer((_req, res) => res.writeHead(404).end('no'))
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.after(() => server.close())
  const port = (server.address() as { port: number }).port
  const waiting: string[] = []
  const r = await waitHealthy({
    upstream: { host: '127.0.0.1', port },
    path: '/health',
    host: 'x.localhost',
    timeoutMs: 5_600,
    exited: new Promise(() => undefined),
    onWaiting: (ms, answer) => waiting.push(`${ms} ${answer}`),
  })
  assert.equal(r.ok, false)
  assert.match(r.ok ? '' : r.reason, /last answer: HTTP 404/)
  assert.ok(waiting.length >= 1 && waiting.every((w) => w.endsWith('HTTP 404')), waiting.join('; '))
})

test('a health check against nothing listening says the connection was refused', async () => {
  const server = createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as { port: number }).port
  await new Promise<void>((r) => server.close(() => r()))
  const r = await waitHealthy({
    upstream: { host: '127.0.0.1', port },
    path: '/',
    host: 'x.localhost',
    timeoutMs: 300,
    exited: new Promise(() => undefined),
  })
  assert.match(r.ok ? '' : r.reason, /last answer: connection refused/)
})
