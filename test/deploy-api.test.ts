import assert from 'node:assert/strict'
import { before, describe, test } from 'node:test'
import type { Deployment, Job } from '../src/deploy/index.js'
import { eventually, nodeApp } from '../src/deploy/testing.js'
import { STORE_KINDS } from './support/platform.js'
import { startDeployPlatform, suiteScope, type DeployPlatform, type DeployFixture } from './deploy-helpers.js'

const code = (res: { json(): unknown }): string => (res.json() as { error: { code: string } }).error.code

for (const kind of STORE_KINDS) {
  describe(`deploy API on ${kind}`, () => {
    let p: DeployPlatform
    const scope = suiteScope()
    before(async () => {
      p = await startDeployPlatform(scope, { kind })
    })

    test('bad deployment input is refused before anything runs (option injection, unknown fields)', async () => {
      const f = await p.addApp()
      for (const ref of ['--upload-pack=touch /tmp/pwned', '-b', '../x', 'a b']) {
        const res = await f.call('POST', `/v1/environments/${f.envId}/deployments`, { ref })
        assert.equal(res.statusCode, 400, ref)
      }
      assert.equal(
        (await f.call('POST', `/v1/environments/${f.envId}/deployments`, { ref: 'main', extra: 1 }))
          .statusCode,
        400,
      )
      assert.equal((await f.call('POST', `/v1/environments/env_nope/deployments`, {})).statusCode, 404)
      assert.equal((await f.call('GET', `/v1/deployments/dep_nope`)).statusCode, 404)
      const list = (await f.call('GET', `/v1/environments/${f.envId}/deployments`)).json() as {
        items: Deployment[]
      }
      assert.equal(list.items.length, 0)
    })

    test('a repository outside the allowed roots, or absent, is refused when it is set, with the reason', async () => {
      const f = await p.addApp()
      const outside = await f.call('PATCH', `/v1/projects/${f.projectId}`, { repository: '/etc' })
      assert.equal(outside.statusCode, 400, outside.body)
      assert.match(outside.body, /outside the directories allowed by PALISADE_GIT_LOCAL_ROOTS/)
      const absent = await f.call('PATCH', `/v1/projects/${f.projectId}`, { repository: '/nonexistent/shop' })
      assert.equal(absent.statusCode, 400, absent.body)
      assert.match(absent.body, /does not exist/)
      const project = (await f.call('GET', `/v1/projects/${f.projectId}`)).json() as { repository: string }
      assert.notEqual(project.repository, '/etc', 'nothing was changed')
    })

    test('access rules are validated, stored and never return the password', async () => {
      const f = await p.addApp()
      const before = (await f.call('GET', `/v1/environments/${f.envId}/access`)).json()
      assert.deepEqual(before, { ipAllow: [], ipGroups: [], password: null })
      for (const bad of [
        { ipAllow: ['10.0.0.0/33'], ipGroups: [], password: null },
        { ipAllow: ['not-an-ip'], ipGroups: [], password: null },
        { ipAllow: [], ipGroups: ['ipg_other'], password: null },
        { ipAllow: [], ipGroups: [], password: { username: 'a:b', password: 'longenough' } },
      ]) {
        assert.equal(
          (await f.call('PUT', `/v1/environments/${f.envId}/access`, bad)).statusCode,
          400,
          JSON.stringify(bad),
        )
      }
      const res = await f.call('PUT', `/v1/environments/${f.envId}/access`, {
        ipAllow: ['10.1.2.3', '2001:db8::/32'],
        ipGroups: [],
        password: { username: 'team', password: 'very secret pw' },
      })
      assert.equal(res.statusCode, 200, res.body)
      assert.deepEqual(res.json(), {
        ipAllow: ['10.1.2.3/32', '2001:db8::/32'],
        ipGroups: [],
        password: { username: 'team' },
      })
      assert.doesNotMatch(res.body, /very secret|argon2/)
      const route = p.platform.deploy.publish(f.envId)
      const r = await route
      assert.deepEqual(r?.access.ipAllow, ['10.1.2.3/32', '2001:db8::/32'])
      assert.match(r?.access.basicAuth?.passwordHash ?? '', /^\$argon2id\$/)
      const events = (
        await f.call('GET', `/v1/workspaces/${f.workspaceId}/audit-events?action=environment.access.update`)
      ).json() as { items: Array<{ changes: unknown }> }
      assert.equal(events.items.length, 1)
      assert.doesNotMatch(JSON.stringify(events.items), /very secret|argon2/)
    })

    test('a PATCH of the access rules changes only the fields it names and keeps the stored password', async () => {
      const f = await p.addApp()
      const url = `/v1/environments/${f.envId}/access`
      const put = await f.call('PUT', url, {
        ipAllow: ['10.1.2.3'],
        ipGroups: [],
        password: { username: 'team', password: 'very secret pw' },
      })
      assert.equal(put.statusCode, 200, put.body)
      const hashOf = async () => (await p.platform.deploy.publish(f.envId))?.access.basicAuth?.passwordHash
      const hash = await hashOf()
      assert.match(hash ?? '', /^\$argon2id\$/)
      for (const bad of [
        {},
        { ipAllow: ['not-an-ip'] },
        { ipGroups: ['ipg_other'] },
        { password: { username: 'team' } },
        { password: { username: 'team', password: 'short' } },
        { password: 'very secret pw' },
        { ipAllow: [], extra: 1 },
      ]) {
        const res = await f.call('PATCH', url, bad)
        assert.equal(res.statusCode, 400, `${JSON.stringify(bad)} → ${res.body}`)
        assert.ok(code(res), res.body)
      }
      assert.deepEqual((await f.call('GET', url)).json(), {
        ipAllow: ['10.1.2.3/32'],
        ipGroups: [],
        password: { username: 'team' },
      })
      const kept = await f.call('PATCH', url, { ipAllow: ['127.0.0.0/8', '127.0.0.1'] })
      assert.equal(kept.statusCode, 200, kept.body)
      assert.deepEqual(kept.json(), {
        ipAllow: ['127.0.0.0/8', '127.0.0.1/32'],
        ipGroups: [],
        password: { username: 'team' },
      })
      assert.equal(await hashOf(), hash, 'the stored password is the same one')
      const events = (
        await f.call('GET', `/v1/workspaces/${f.workspaceId}/audit-events?action=environment.access.update`)
      ).json() as { items: Array<{ changes: Record<string, unknown> }> }
      // This environment's events only: other tests of the file change access rules in the same workspace.
      const mine = events.items.filter((e) => JSON.stringify(e).includes(f.envId))
      assert.equal(mine.length, 2, JSON.stringify(events.items, null, 1))
      assert.deepEqual(
        mine.map((e) => Object.keys(e.changes).sort().join(' ')).sort(),
        ['ipAllow', 'ipAllow password passwordValue username'],
        'the PATCH changed the allow list only',
      )
      assert.doesNotMatch(JSON.stringify(events.items), /very secret|argon2/)

      const off = await f.call('PATCH', url, { password: null })
      assert.deepEqual(off.json(), { ipAllow: ['127.0.0.0/8', '127.0.0.1/32'], ipGroups: [], password: null })
      assert.equal(await hashOf(), undefined)
      const on = await f.call('PATCH', url, { password: { username: 'other', password: 'another secret' } })
      assert.deepEqual(on.json(), {
        ipAllow: ['127.0.0.0/8', '127.0.0.1/32'],
        ipGroups: [],
        password: { username: 'other' },
      })
    })

    test('domains are validated host names, unique within a workspace, and not routed before they are proven', async () => {
      const f = await p.addApp()
      const g = await p.addApp()
      for (const bad of [
        'localhost',
        'main.shop1.acme.localhost',
        'x.localhost',
        '1.2.3.4',
        '-a.example.com',
        'a..b',
        'under_score.example.com',
        '*.example.com',
      ]) {
        const res = await f.call('POST', `/v1/environments/${f.envId}/domains`, { name: bad })
        assert.equal(res.statusCode, 400, `${bad}: ${res.body}`)
      }
      const ok = await f.call('POST', `/v1/environments/${f.envId}/domains`, {
        name: `Shop-${kind}.Example.com`,
      })
      assert.equal(ok.statusCode, 201, ok.body)
      assert.equal((ok.json() as { name: string }).name, `shop-${kind}.example.com`)
      const dup = await g.call('POST', `/v1/environments/${g.envId}/domains`, {
        name: `shop-${kind}.example.com`,
      })
      assert.equal(dup.statusCode, 409)
      assert.equal(code(dup), 'domain_taken')
      // pending until proven (test/domains-verify.test.ts): the edge routes only the default host
      const route = await p.platform.deploy.publish(f.envId)
      assert.deepEqual(route?.hosts, [f.host])
      const list = (await f.call('GET', `/v1/environments/${f.envId}/domains`)).json() as {
        items: Array<{ name: string }>
      }
      assert.deepEqual(
        list.items.map((d) => d.name),
        [`shop-${kind}.example.com`],
      )
      assert.equal(
        (await f.call('DELETE', `/v1/environments/${f.envId}/domains/shop-${kind}.example.com`)).statusCode,
        204,
      )
      assert.equal(
        (await f.call('DELETE', `/v1/environments/${f.envId}/domains/shop-${kind}.example.com`)).statusCode,
        404,
      )
    })

    test('jobs need a release, a known type and a command only for type command', async () => {
      const f = await p.addApp()
      assert.equal(
        (await f.call('POST', `/v1/environments/${f.envId}/jobs`, { type: 'shutdown' })).statusCode,
        400,
      )
      assert.equal(
        (await f.call('POST', `/v1/environments/${f.envId}/jobs`, { type: 'command' })).statusCode,
        400,
      )
      assert.equal(
        (await f.call('POST', `/v1/environments/${f.envId}/jobs`, { type: 'restart', command: 'x' }))
          .statusCode,
        400,
      )
      const res = await f.call('POST', `/v1/environments/${f.envId}/jobs`, { type: 'restart' })
      assert.equal(res.statusCode, 409)
      assert.equal(code(res), 'no_release')
    })
  })
}

describe('jobs and edge restrictions on a running app', () => {
  let p: DeployPlatform
  const scope = suiteScope()
  let f: DeployFixture
  before(async () => {
    p = await startDeployPlatform(scope)
    f = await p.addApp()
    const files = nodeApp('v1')
    files['Procfile'] = 'web: node server.js\nflush-cache: echo flushed $GREETING\n'
    f.repo.commit(files)
    await f.call('PUT', `/v1/environments/${f.envId}/variables/GREETING`, { value: 'hey' })
    const d = await f.deploy()
    assert.equal(d.status, 'succeeded', d.reason ?? '')
  })

  const runJob = async (body: unknown): Promise<{ job: Job; log: string }> => {
    const res = await f.call('POST', `/v1/environments/${f.envId}/jobs`, body)
    assert.equal(res.statusCode, 202, res.body)
    const id = (res.json() as Job).id
    const job = await eventually(async () => {
      const j = (await f.call('GET', `/v1/jobs/${id}`)).json() as Job
      return j.status === 'succeeded' || j.status === 'failed' ? j : undefined
    })
    return { job, log: (await f.call('GET', `/v1/jobs/${id}/logs`)).body }
  }

  test('a command job runs in the current release with the variables and logs its output', async () => {
    const { job, log } = await runJob({
      type: 'command',
      command: 'echo "$GREETING from $(basename $(pwd))"; ls server.js; exit 3',
    })
    assert.equal(job.status, 'failed')
    assert.equal(job.exitCode, 3)
    assert.match(log, /hey from 1\nserver.js\n/)
  })

  test('flush-cache runs the Procfile flush-cache line', async () => {
    const { job, log } = await runJob({ type: 'flush-cache' })
    assert.equal(job.status, 'succeeded', job.reason ?? '')
    assert.match(log, /flushed hey/)
  })

  test('restart replaces the process without a failed request', async () => {
    const before = (await f.call('GET', `/v1/environments/${f.envId}/status`)).json() as {
      process: { instanceId: string }
    }
    const { job } = await runJob({ type: 'restart' })
    assert.equal(job.status, 'succeeded', job.reason ?? '')
    const after = (await f.call('GET', `/v1/environments/${f.envId}/status`)).json() as {
      process: { instanceId: string; state: string }
    }
    assert.notEqual(after.process.instanceId, before.process.instanceId)
    assert.equal((await f.get('/')).body, 'v1 hey\n')
  })

  test('maintenance mode answers 503 at the edge until it is switched off', async () => {
    const on = await runJob({ type: 'maintenance-on' })
    assert.equal(on.job.status, 'succeeded')
    assert.equal((await f.get('/')).status, 503)
    const status = (await f.call('GET', `/v1/environments/${f.envId}/status`)).json() as {
      maintenance: boolean
    }
    assert.equal(status.maintenance, true)
    await runJob({ type: 'maintenance-off' })
    assert.equal((await f.get('/')).status, 200)
  })

  test('an IP allow list and password protection are enforced by the edge', async () => {
    await f.call('PUT', `/v1/environments/${f.envId}/access`, {
      ipAllow: ['10.0.0.0/8'],
      ipGroups: [],
      password: null,
    })
    assert.equal((await f.get('/')).status, 403)
    await f.call('PUT', `/v1/environments/${f.envId}/access`, {
      ipAllow: ['127.0.0.0/8'],
      ipGroups: [],
      password: { username: 'team', password: 'open sesame 1' },
    })
    assert.equal((await f.get('/')).status, 401)
    const basic = 'Basic ' + Buffer.from('team:open sesame 1').toString('base64')
    assert.equal((await f.get('/', { authorization: basic })).body, 'v1 hey\n')
    // Changing the allow list alone keeps the password: still asked for, still accepted.
    const patched = await f.call('PATCH', `/v1/environments/${f.envId}/access`, { ipAllow: ['127.0.0.1'] })
    assert.equal(patched.statusCode, 200, patched.body)
    assert.equal((await f.get('/')).status, 401)
    assert.equal((await f.get('/', { authorization: basic })).body, 'v1 hey\n')
    await f.call('PUT', `/v1/environments/${f.envId}/access`, { ipAllow: [], ipGroups: [], password: null })
    assert.equal((await f.get('/')).status, 200)
  })
})
