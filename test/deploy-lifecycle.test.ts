import assert from 'node:assert/strict'
import { before, describe, test } from 'node:test'
import type { Deployment } from '../src/deploy/index.js'
import { eventually, nodeApp } from '../src/deploy/testing.js'
import { startDeployPlatform, suiteScope, type DeployPlatform } from './deploy-helpers.js'

describe('deployments (one platform, one app per test)', () => {
  let p: DeployPlatform
  const scope = suiteScope()
  before(async () => {
    p = await startDeployPlatform(scope, { deploy: { healthTimeoutMs: 4_000 } })
  })

  test('a deployment builds the branch, passes its health check and serves through the edge', async () => {
    const f = await p.addApp()
    const commit = f.repo.commit(nodeApp('v1'))
    await f.call('PUT', `/v1/environments/${f.envId}/variables/GREETING`, { value: 'bonjour' })
    const d = await f.deploy()
    assert.equal(d.status, 'succeeded', d.reason ?? '')
    assert.equal(d.commit, commit)
    assert.equal(d.number, 1)
    assert.equal((await f.get('/')).body, 'v1 bonjour\n')

    const logs = await f.call('GET', `/v1/deployments/${d.id}/logs`)
    assert.equal(logs.statusCode, 200)
    assert.match(logs.headers['content-type'] as string, /^text\/plain/)
    assert.match(logs.body, /fetching .* at main/)
    assert.match(logs.body, /health check GET \/health passed/)
    assert.match(logs.body, /listening v1/)

    const list = (await f.call('GET', `/v1/environments/${f.envId}/deployments`)).json() as {
      items: Deployment[]
    }
    assert.deepEqual(
      list.items.map((x) => x.id),
      [d.id],
    )
    const status = (await f.call('GET', `/v1/environments/${f.envId}/status`)).json() as {
      currentRelease: number
      process: { state: string }
    }
    assert.equal(status.currentRelease, 1)
    assert.equal(status.process.state, 'running')
  })

  test('the app gets its variables and PORT but none of the control plane environment', async () => {
    const f = await p.addApp()
    f.repo.commit(nodeApp('v1'))
    const d = await f.deploy()
    assert.equal(d.status, 'succeeded', d.reason ?? '')
    const env = JSON.parse((await f.get('/env')).body) as Record<string, string>
    assert.match(env['PORT'] ?? '', /^\d+$/)
    assert.equal(env['GREETING'], undefined)
    // The master key the control plane was started with appears nowhere in the app's environment.
    assert.ok(!Object.values(env).some((v) => v.includes('a'.repeat(64))))
    for (const [name, value] of Object.entries(process.env)) {
      if (['PATH', 'HOME', 'LANG'].includes(name) || value === undefined || value.length < 4) continue
      assert.notEqual(env[name], value, `${name} leaked into the app`)
    }
  })

  test('a failed health check leaves the previous release serving and says why', async () => {
    const f = await p.addApp()
    f.repo.commit(nodeApp('v1'))
    assert.equal((await f.deploy()).status, 'succeeded')
    f.repo.commit(nodeApp('v2', { failHealth: true }))
    const bad = await f.deploy()
    assert.equal(bad.status, 'failed')
    assert.match(bad.reason ?? '', /health check GET \/health got no 2xx\/3xx answer/)
    assert.equal((await f.get('/')).body, 'v1 hello\n')

    f.repo.commit(nodeApp('v3', { crash: true }))
    const crashed = await f.deploy()
    assert.equal(crashed.status, 'failed')
    assert.match(crashed.reason ?? '', /exited \(code 1/)
    assert.equal((await f.get('/')).body, 'v1 hello\n')
  })

  test('a failing build step fails the deployment with its exit code and keeps the old release', async () => {
    const f = await p.addApp()
    f.repo.commit(nodeApp('v1'))
    assert.equal((await f.deploy()).status, 'succeeded')
    const files = nodeApp('v2')
    files['package.json'] = JSON.stringify({
      name: 'app',
      scripts: { start: 'node server.js', build: 'node -e "process.exit(3)"' },
    })
    f.repo.commit(files)
    const d = await f.deploy()
    assert.equal(d.status, 'failed')
    assert.match(d.reason ?? '', /npm run build" failed with exit code 3/)
    assert.equal((await f.get('/')).body, 'v1 hello\n')
  })

  test('rollback returns to the previous release without a rebuild', async () => {
    const f = await p.addApp()
    const c1 = f.repo.commit(nodeApp('v1'))
    await f.deploy()
    f.repo.commit(nodeApp('v2'))
    await f.deploy()
    assert.equal((await f.get('/')).body, 'v2 hello\n')
    const res = await f.call('POST', `/v1/environments/${f.envId}/rollback`)
    assert.equal(res.statusCode, 201)
    const r = await f.waitFor((res.json() as Deployment).id)
    assert.equal(r.status, 'succeeded', r.reason ?? '')
    assert.equal(r.kind, 'rollback')
    assert.equal(r.release, 1)
    assert.equal(r.commit, c1)
    assert.equal((await f.get('/')).body, 'v1 hello\n')
    const logs = (await f.call('GET', `/v1/deployments/${r.id}/logs`)).body
    assert.match(logs, /without a rebuild/)
    assert.doesNotMatch(logs, /fetching/)
  })

  test('rollback without an earlier release is a conflict', async () => {
    const f = await p.addApp()
    const res = await f.call('POST', `/v1/environments/${f.envId}/rollback`)
    assert.equal(res.statusCode, 409)
    assert.equal((res.json() as { error: { code: string } }).error.code, 'no_release')
  })

  test('a second deployment queues behind the first', async () => {
    const f = await p.addApp()
    f.repo.commit(nodeApp('v1'))
    const a = (await f.call('POST', `/v1/environments/${f.envId}/deployments`, {})).json() as Deployment
    const b = (await f.call('POST', `/v1/environments/${f.envId}/deployments`, {})).json() as Deployment
    assert.equal(b.status, 'queued')
    const first = await f.waitFor(a.id)
    const second = await f.waitFor(b.id)
    assert.equal(first.status, 'succeeded')
    assert.equal(second.status, 'succeeded')
    assert.ok(
      (second.startedAt ?? '') >= (first.finishedAt ?? ''),
      'the second started after the first finished',
    )
  })

  test('a crash-looping app is restarted with backoff and its state shows it', async () => {
    const f = await p.addApp()
    // Healthy at first, then exits 300 ms after each start.
    f.repo.commit(nodeApp('v1', { extra: 'setTimeout(() => process.exit(7), 300)' }))
    const d = await f.deploy()
    assert.equal(d.status, 'succeeded', d.reason ?? '')
    const seen = await eventually(
      async () => {
        const s = (await f.call('GET', `/v1/environments/${f.envId}/status`)).json() as {
          process: { state: string; restarts: number; lastExit: { code: number } | null }
        }
        return s.process.restarts >= 1 && s.process.state === 'backoff' ? s.process : undefined
      },
      20_000,
      'a restart and a backoff',
    )
    assert.equal(seen.lastExit?.code, 7)
    const logs = (await f.call('GET', `/v1/deployments/${d.id}/logs`)).body
    assert.match(logs, /process exited \(code 7.*restarting in 1000 ms/)
    assert.match(logs, /restarting in 2000 ms/)
  })

  test('follow mode streams the log until the deployment ends', async () => {
    const f = await p.addApp()
    f.repo.commit(nodeApp('v1', { failHealth: true }))
    const res = await f.call('POST', `/v1/environments/${f.envId}/deployments`, {})
    const id = (res.json() as Deployment).id
    const logs = await f.call('GET', `/v1/deployments/${id}/logs?follow=true&format=ndjson`)
    assert.equal(logs.statusCode, 200)
    const lines = logs.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { text: string })
    const text = lines.map((l) => l.text).join('')
    assert.match(text, /deployment failed: health check/)
  })
})
