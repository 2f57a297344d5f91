import assert from 'node:assert/strict'
import { test } from 'node:test'
import { COVERED_ELSEWHERE } from './support/audit-elsewhere.js'
import { setUpOwner, startPlatform, type TestPlatform } from './support/platform.js'

/**
 * Walks every mutating route of the OpenAPI document: each must declare the audit action it writes,
 * and calling it must write exactly one event with that action, the caller as actor and the right
 * target. Reads write nothing. A new mutating route without a case here fails the suite.
 */
interface Fixture {
  token: string
  workspaceId: string
  projectId: string
  envId: string
}
interface Case {
  /** Request to send; `fixture` holds live ids. */
  call: (f: Fixture) => { url: string; body?: unknown; token?: string }
  /** Expected target id (or a predicate) of the event. */
  target?: (f: Fixture) => string
  /** Routes whose success is not 2xx for a re-used fixture (still exactly one event). */
  status?: number
}

const CASES: Record<string, Case> = {
  'post /v1/workspaces/{ws}/incidents': {
    call: (f) => ({
      url: `/v1/workspaces/${f.workspaceId}/incidents`,
      body: { actions: ['notify'], reason: 'drill' },
    }),
    target: (f) => f.workspaceId,
  },
  'post /v1/workspaces': { call: () => ({ url: '/v1/workspaces', body: { name: 'second' } }) },
  'patch /v1/workspaces/{ws}': {
    call: (f) => ({ url: `/v1/workspaces/${f.workspaceId}`, body: { displayName: 'Acme Inc' } }),
    target: (f) => f.workspaceId,
  },
  'post /v1/workspaces/{ws}/projects': {
    call: (f) => ({ url: `/v1/workspaces/${f.workspaceId}/projects`, body: { name: 'blog' } }),
  },
  'patch /v1/projects/{id}': {
    call: (f) => ({ url: `/v1/projects/${f.projectId}`, body: { description: 'the shop' } }),
    target: (f) => f.projectId,
  },
  'post /v1/projects/{id}/environments': {
    call: (f) => ({ url: `/v1/projects/${f.projectId}/environments`, body: { name: 'staging' } }),
  },
  'patch /v1/environments/{id}': {
    call: (f) => ({ url: `/v1/environments/${f.envId}`, body: { branch: 'release' } }),
    target: (f) => f.envId,
  },
  'put /v1/environments/{id}/variables': {
    call: (f) => ({
      url: `/v1/environments/${f.envId}/variables`,
      body: { variables: [{ name: 'A', value: '1' }] },
    }),
    target: (f) => f.envId,
  },
  'put /v1/environments/{id}/variables/{name}': {
    call: (f) => ({ url: `/v1/environments/${f.envId}/variables/B`, body: { value: 'x', secret: true } }),
    target: (f) => `${f.envId}/B`,
  },
  'delete /v1/environments/{id}/variables/{name}': {
    call: (f) => ({ url: `/v1/environments/${f.envId}/variables/A` }),
    target: (f) => `${f.envId}/A`,
  },
  'put /v1/environments/{id}/waf': {
    call: (f) => ({ url: `/v1/environments/${f.envId}/waf`, body: { paranoia: 2 } }),
    target: (f) => f.envId,
  },
  'put /v1/projects/{id}/anonymization': {
    call: (f) => ({
      url: `/v1/projects/${f.projectId}/anonymization`,
      body: { rules: [{ service: 'mariadb', table: 'users', column: 'email', method: 'fake-email' }] },
    }),
    target: (f) => f.projectId,
  },
  'post /v1/environments/{id}/runtime-updates/postpone': {
    call: (f) => ({
      url: `/v1/environments/${f.envId}/runtime-updates/postpone`,
      body: { until: new Date(Date.now() + 86_400_000).toISOString() },
    }),
    target: (f) => f.envId,
  },
  // Routes that end what the fixture stands on run last (see ORDER below).
  'delete /v1/environments/{id}': {
    call: (f) => ({ url: `/v1/environments/${f.envId}` }),
    target: (f) => f.envId,
  },
  'delete /v1/projects/{id}': {
    call: (f) => ({ url: `/v1/projects/${f.projectId}?force=true` }),
    target: (f) => f.projectId,
  },
  'delete /v1/workspaces/{ws}': {
    call: (f) => ({ url: `/v1/workspaces/${f.workspaceId}?force=true` }),
    target: (f) => f.workspaceId,
  },
  'post /v1/sessions': {
    call: () => ({
      url: '/v1/sessions',
      body: { email: 'owner@example.com', password: 'correct horse battery staple 42' },
    }),
  },
  'delete /v1/sessions/current': { call: () => ({ url: '/v1/sessions/current' }) },
}

const LAST = [
  'delete /v1/environments/{id}',
  'delete /v1/projects/{id}',
  'delete /v1/workspaces/{ws}',
  'delete /v1/sessions/current',
]

async function eventCount(tp: TestPlatform): Promise<number> {
  const r = await tp.platform.store.db
    .selectFrom('audit_events')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow()
  return Number(r.n)
}

test('every mutating route writes exactly one audit event with its action, actor and target; reads write none', async (t) => {
  const tp = await startPlatform(t, 'sqlite')
  const { token, workspaceId } = await setUpOwner(tp)
  const projectId = (
    (
      await tp.call('POST', `/v1/workspaces/${workspaceId}/projects`, { token, body: { name: 'shop' } })
    ).json() as { id: string }
  ).id
  const envId = (
    (
      await tp.call('POST', `/v1/projects/${projectId}/environments`, { token, body: { name: 'main' } })
    ).json() as { id: string }
  ).id
  const f: Fixture = { token, workspaceId, projectId, envId }
  const doc = (await tp.call('GET', '/v1/openapi.json')).json() as {
    paths: Record<string, Record<string, { 'x-palisade-audit'?: string; 'x-palisade-readonly'?: boolean }>>
  }

  const mutating: Array<[string, string]> = []
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const key = `${method} ${path}`
      if (method === 'get') {
        const before = await eventCount(tp)
        const url = path
          .replace('{ws}', workspaceId)
          .replace('{id}', path.startsWith('/v1/projects') ? projectId : envId)
          .replace(/\{[a-zA-Z]+\}/g, 'x')
        await tp.call('GET', url, { token })
        assert.equal(await eventCount(tp), before, `GET ${path} wrote an audit event`)
        continue
      }
      // A POST that only computes (POST /v1/decide): test/decide.test.ts checks that it writes no event.
      if (op['x-palisade-readonly'] === true && !op['x-palisade-audit']) continue
      assert.ok(op['x-palisade-audit'], `${key} declares no audit action`)
      if (COVERED_ELSEWHERE.has(key)) continue
      mutating.push([key, op['x-palisade-audit']])
    }
  }
  const missing = mutating.filter(([k]) => !CASES[k]).map(([k]) => k)
  assert.deepEqual(missing, [], 'mutating routes without an audit case')

  mutating.sort(([a], [b]) => LAST.indexOf(a) - LAST.indexOf(b))
  for (const [key, action] of mutating) {
    const c = CASES[key]!
    const { url, body } = c.call(f)
    const before = await eventCount(tp)
    const method = key.split(' ')[0]!.toUpperCase() as 'POST'
    const res = await tp.call(method, url, { token, ...(body === undefined ? {} : { body }) })
    assert.ok(res.statusCode < 300, `${key} → ${res.statusCode} ${res.body}`)
    const events = await tp.platform.store.db.selectFrom('audit_events').selectAll().orderBy('at').execute()
    assert.equal(events.length, before + 1, `${key} wrote ${events.length - before} events`)
    const newest = await tp.platform.store.db
      .selectFrom('audit_events')
      .selectAll()
      .where('request_id', '=', String(res.headers['x-request-id']))
      .executeTakeFirstOrThrow()
    assert.equal(newest.action, action, key)
    assert.equal(newest.outcome, 'success')
    assert.match(newest.actor, /owner@example.com/)
    if (c.target) assert.equal(newest.target_id, c.target(f), key)
  }
})
