import assert from 'node:assert/strict'
import { Agent, request } from 'node:http'
import { test } from 'node:test'
import { startEdge, startUpstream, testRoute, type TestUpstream } from '../src/edge/testing.js'

function get(port: number, agent: Agent): Promise<{ status: number; name: string }> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/', headers: { host: 'live.localhost' }, agent },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          let name = ''
          try {
            name = (JSON.parse(Buffer.concat(chunks).toString()) as { name: string }).name
          } catch {
            // a non-JSON answer counts as a failure below
          }
          resolve({ status: res.statusCode ?? 0, name })
        })
        res.on('error', () => resolve({ status: -1, name: '' }))
      },
    )
    req.on('error', () => resolve({ status: -1, name: '' }))
    req.end()
  })
}

test('switching a route to a new release under load fails no request while the old one drains', async (t) => {
  // Each release answers after a short pause so requests are in flight at every switch.
  const releases: TestUpstream[] = []
  for (const name of ['r1', 'r2', 'r3', 'r4']) {
    releases.push(
      await startUpstream(name, (_req, res) => {
        setTimeout(() => {
          res.writeHead(200, { 'content-type': 'application/json' })
          res.end(JSON.stringify({ name }))
        }, 3)
        return true
      }),
    )
  }
  const e = await startEdge()
  const agent = new Agent({ keepAlive: true, maxSockets: 20 })
  t.after(async () => {
    agent.destroy()
    await Promise.all([...releases.map((r) => r.close()), e.stop()])
  })
  const routeTo = (i: number) =>
    testRoute({
      environmentId: 'env_live',
      hosts: ['live.localhost'],
      target: { kind: 'proxy', upstream: { host: '127.0.0.1', port: (releases[i] as TestUpstream).port } },
    })
  e.edge.routes.upsert(routeTo(0))

  const total = 600
  const results: { status: number; name: string }[] = []
  let issued = 0
  const worker = async (): Promise<void> => {
    while (issued < total) {
      issued++
      results.push(await get(e.httpPort, agent))
    }
  }
  const load = Promise.all(Array.from({ length: 20 }, () => worker()))

  // Deploy three times: switch, then drain and stop the previous release, as the deployer does.
  for (let i = 1; i < releases.length; i++) {
    while (results.length < (total / releases.length) * i)
      await new Promise((resolve) => setTimeout(resolve, 2))
    e.edge.routes.upsert(routeTo(i))
    await (releases[i - 1] as TestUpstream).drain()
  }
  await load

  const failures = results.filter((r) => r.status !== 200 || r.name === '')
  assert.equal(results.length, total)
  assert.equal(failures.length, 0, `failed: ${JSON.stringify(failures.slice(0, 5))}`)
  const served = new Set(results.map((r) => r.name))
  assert.deepEqual([...served].sort(), ['r1', 'r2', 'r3', 'r4'])
  assert.equal(results.at(-1)?.name, 'r4')
})
