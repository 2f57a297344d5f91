import assert from 'node:assert/strict'
import { Agent, request } from 'node:http'
import { test } from 'node:test'
import type { Deployment } from '../src/deploy/index.js'
import { nodeApp } from '../src/deploy/testing.js'
import { startDeploy } from './deploy-helpers.js'

function get(port: number, host: string, agent: Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers: { host }, agent }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }))
      res.on('error', () => resolve({ status: -1, body: '' }))
    })
    req.on('error', (e) => resolve({ status: -1, body: e.message }))
    req.end()
  })
}

test('five deploys and a rollback under load through the edge fail no request', async (t) => {
  const f = await startDeploy(t)
  f.repo.commit(nodeApp('v0'))
  assert.equal((await f.deploy()).status, 'succeeded')

  const agent = new Agent({ keepAlive: true, maxSockets: 16 })
  t.after(() => agent.destroy())
  const results: { status: number; body: string }[] = []
  let running = true
  const worker = async (): Promise<void> => {
    while (running) results.push(await get(f.edgePort, f.host, agent))
  }
  const load = Promise.all(Array.from({ length: 8 }, () => worker()))

  const done: Deployment[] = []
  for (let i = 1; i <= 5; i++) {
    f.repo.commit(nodeApp(`v${i}`))
    done.push(await f.deploy())
  }
  const rb = await f.call('POST', `/v1/environments/${f.envId}/rollback`)
  done.push(await f.waitFor((rb.json() as Deployment).id))
  // Keep the load on past the last drain (drainMs is 300 ms in the tests).
  await new Promise((r) => setTimeout(r, 800))
  running = false
  await load

  assert.deepEqual(
    done.map((d) => d.status),
    Array(6).fill('succeeded'),
    JSON.stringify(done.map((d) => d.reason)),
  )
  const failures = results.filter((r) => r.status !== 200 || !/^v\d hello\n$/.test(r.body))
  assert.ok(results.length >= 200, `only ${results.length} requests were made`)
  assert.equal(
    failures.length,
    0,
    `${failures.length} of ${results.length} failed: ${JSON.stringify(failures.slice(0, 5))}`,
  )
  const served = new Set(results.map((r) => r.body.trim().split(' ')[0]))
  for (const v of ['v0', 'v5', 'v4']) assert.ok(served.has(v), `${v} served`)
  assert.equal(results.at(-1)?.body, 'v4 hello\n', 'the rollback went back to v4')
})
