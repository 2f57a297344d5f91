import assert from 'node:assert/strict'
import { Agent, request } from 'node:http'
import { test } from 'node:test'
import type { Deployment, EnvironmentRuntimeStatus } from '../src/deploy/index.js'
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

/** Answers with its version and the instance that served the request. */
function app(v: string): Record<string, string> {
  const files = nodeApp(v)
  const server = files['server.js'] ?? ''
  const tagged = server.replace("(process.env.GREETING || 'hello')", 'process.env.PALISADE_INSTANCE')
  assert.notEqual(tagged, server)
  return { ...files, 'server.js': tagged }
}

test('with two instances, three deploys under load through the edge fail no request and both instances serve', async (t) => {
  const f = await startDeploy(t)
  const patch = await f.call('PATCH', `/v1/environments/${f.envId}`, { sizing: { instances: 2 } })
  assert.equal(patch.statusCode, 200, patch.body)
  f.repo.commit(app('v0'))
  assert.equal((await f.deploy()).status, 'succeeded')
  const st = (await f.call('GET', `/v1/environments/${f.envId}/status`)).json() as EnvironmentRuntimeStatus
  assert.equal(st.instances.length, 2)

  const agent = new Agent({ keepAlive: true, maxSockets: 16 })
  t.after(() => agent.destroy())
  const results: { status: number; body: string }[] = []
  let running = true
  const worker = async (): Promise<void> => {
    while (running) results.push(await get(f.edgePort, f.host, agent))
  }
  const load = Promise.all(Array.from({ length: 8 }, () => worker()))
  const done: Deployment[] = []
  for (let i = 1; i <= 3; i++) {
    f.repo.commit(app(`v${i}`))
    done.push(await f.deploy())
  }
  await new Promise((r) => setTimeout(r, 800))
  running = false
  await load

  assert.deepEqual(
    done.map((d) => d.status),
    Array(3).fill('succeeded'),
  )
  const failures = results.filter((r) => r.status !== 200 || !/^v\d ins_[a-z0-9]+\n$/.test(r.body))
  assert.ok(results.length >= 200, `only ${results.length} requests were made`)
  assert.equal(
    failures.length,
    0,
    `${failures.length} of ${results.length} failed: ${JSON.stringify(failures.slice(0, 5))}`,
  )
  const last = new Set(results.filter((r) => r.body.startsWith('v3 ')).map((r) => r.body))
  assert.equal(last.size, 2, 'both instances of the last release served requests')
})
