import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { WebSocket, WebSocketServer } from 'ws'
import type { InspectedRequest } from '../src/edge/index.js'
import { send, startEdge, testRoute } from '../src/edge/testing.js'

async function startEchoWs(): Promise<{ port: number; close(): Promise<void>; forwardedFor: string[] }> {
  const server = createServer((_req, res) => res.end('plain'))
  const wss = new WebSocketServer({ server })
  const forwardedFor: string[] = []
  wss.on('connection', (socket, req) => {
    forwardedFor.push(String(req.headers['x-forwarded-for']))
    socket.on('message', (data: Buffer) => socket.send(`echo:${data.toString()}`))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    forwardedFor,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate()
        wss.close()
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

test('a WebSocket upgrade passes the WAF hook and then pipes both ways', async (t) => {
  const up = await startEchoWs()
  const inspected: InspectedRequest[] = []
  const e = await startEdge({
    inspector: (req) => {
      inspected.push(req)
      return req.uri.includes('evil')
        ? { action: 'block', status: 403, ruleIds: ['920100'] }
        : { action: 'allow' }
    },
  })
  t.after(() => Promise.all([up.close(), e.stop()]))
  e.edge.routes.upsert(
    testRoute({
      environmentId: 'env_ws',
      hosts: ['ws.localhost'],
      target: { kind: 'proxy', upstream: { host: '127.0.0.1', port: up.port } },
    }),
  )

  const ws = new WebSocket(`ws://127.0.0.1:${e.httpPort}/chat`, { headers: { host: 'ws.localhost' } })
  t.after(() => ws.terminate())
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  const replies: string[] = []
  for (const text of ['one', 'two']) {
    ws.send(text)
    replies.push(
      await new Promise<string>((resolve) => ws.once('message', (data: Buffer) => resolve(data.toString()))),
    )
  }
  assert.deepEqual(replies, ['echo:one', 'echo:two'])
  assert.equal(inspected[0]?.upgrade, true)
  assert.equal(up.forwardedFor[0], '127.0.0.1')

  const status = await new Promise<number>((resolve, reject) => {
    const blocked = new WebSocket(`ws://127.0.0.1:${e.httpPort}/evil`, { headers: { host: 'ws.localhost' } })
    blocked.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0)
      blocked.terminate()
    })
    blocked.once('open', () => reject(new Error('blocked upgrade was opened')))
    blocked.once('error', () => undefined)
  })
  assert.equal(status, 403)
})

test('an upgrade to anything but WebSocket (h2c smuggling) is refused', async (t) => {
  const up = await startEchoWs()
  const e = await startEdge()
  t.after(() => Promise.all([up.close(), e.stop()]))
  e.edge.routes.upsert(
    testRoute({
      environmentId: 'env_ws',
      hosts: ['ws.localhost'],
      target: { kind: 'proxy', upstream: { host: '127.0.0.1', port: up.port } },
    }),
  )
  const res = await send(e.httpPort, {
    headers: [
      'Host',
      'ws.localhost',
      'Connection',
      'Upgrade, HTTP2-Settings',
      'Upgrade',
      'h2c',
      'HTTP2-Settings',
      'AAMAAABkAARAAAAAAAIAAAAA',
    ],
  })
  assert.equal(res.status, 400)
})
