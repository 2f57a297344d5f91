import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createEnvironmentHealth } from '../src/monitor/environment-health.js'
import { HEALTH_AUDITED } from './support/audit-elsewhere.js'
import { addMember } from './support/members.js'
import { runCli } from './support/processes.js'
import { setUpOwner, startPlatform } from './support/platform.js'

interface AuditView {
  action: string
  actor: { type: string; id: string }
  target: { id: string }
  changes: Record<string, { before: unknown; after: unknown }>
}

/**
 * Clearing the `failed` mark by hand (DELETE /v1/environments/:id/failure, `palisade clear-failed`): allowed to
 * whoever may deploy the environment (a developer on staging, an admin or owner on production), with a token
 * that has the deploy scope; one audit event by the caller; 409 when there is no mark, 404 for an environment
 * the caller cannot see, 400 for a malformed id. The mark is the one a crash loop sets (the monitor's own
 * marking); the end-to-end crash loop, whose mark comes back when cleared while the app still loops and which a
 * successful deployment clears, is test/monitor-alert-causes.test.ts.
 */
test('the failed mark is cleared by hand through the API and the CLI by who may deploy, audited, and refused to others', async (t) => {
  const tp = await startPlatform(t, 'sqlite')
  const { platform } = tp
  const { token: owner, workspaceId } = await setUpOwner(tp)
  const call = async (method: string, url: string, token: string, body?: unknown) => {
    const res = await tp.call(method as 'POST', url, { token, ...(body === undefined ? {} : { body }) })
    return { status: res.statusCode, json: (res.body ? res.json() : null) as Record<string, unknown> }
  }
  const project = await call('POST', `/v1/workspaces/${workspaceId}/projects`, owner, { name: 'shop' })
  assert.equal(project.status, 201)
  const envOf = async (name: string, criticality: string) => {
    const env = await call('POST', `/v1/projects/${String(project.json['id'])}/environments`, owner, {
      name,
      criticality,
    })
    assert.equal(env.status, 201, JSON.stringify(env.json))
    return env.json['id'] as string
  }
  const staging = await envOf('staging', 'staging')
  const production = await envOf('production', 'production')
  const health = createEnvironmentHealth({
    db: platform.store.db,
    audit: platform.audit,
    now: Date.now,
    servingDeployment: () => null,
  })
  const mark = async (envId: string) =>
    assert.deepEqual(
      await health.markCrashLoops([
        {
          workspaceId,
          rule: 'crash_loop',
          subject: envId,
          environmentId: envId,
          summary: 'the app is crash-looping (5 restarts in 10 minutes)',
          value: 5,
        },
      ]),
      [envId],
    )
  const statusOf = async (envId: string) =>
    (await call('GET', `/v1/environments/${envId}/status`, owner)).json['status']
  const clears = async () =>
    (
      (
        await call(
          'GET',
          `/v1/workspaces/${workspaceId}/audit-events?action=environment.failure.clear`,
          owner,
        )
      ).json['items'] as AuditView[]
    ).filter((e) => e.action === 'environment.failure.clear')
  const developer = await addMember(tp, owner, workspaceId, 'dev@example.com', 'developer')
  const viewer = await addMember(tp, owner, workspaceId, 'viewer@example.com', 'viewer')
  const readOnly = await call('POST', '/v1/me/tokens', owner, { name: 'read-only', scopes: ['read'] })
  assert.equal(readOnly.status, 201)
  const deployToken = await call('POST', '/v1/me/tokens', developer.token, {
    name: 'ci',
    scopes: ['deploy'],
  })
  assert.equal(deployToken.status, 201)

  await mark(staging)
  await mark(production)
  assert.equal(await statusOf(staging), 'failed')

  // Refused: a viewer, an owner's read-only token, a developer on production. Nothing changes, nothing audited.
  const refusals: Array<[string, string, string]> = [
    ['viewer', viewer.token, staging],
    ['read-only token', (readOnly.json as { token: string }).token, staging],
    ['developer on production', developer.token, production],
  ]
  for (const [who, token, envId] of refusals) {
    const res = await call('DELETE', `/v1/environments/${envId}/failure`, token)
    assert.equal(res.status, 403, `${who}: ${JSON.stringify(res.json)}`)
  }
  assert.equal(await statusOf(staging), 'failed')
  assert.equal(await statusOf(production), 'failed')
  assert.equal((await clears()).length, 0)

  // Bad input: an id past its limit, an environment nobody has, an environment that is not marked.
  assert.equal((await call('DELETE', `/v1/environments/${'e'.repeat(101)}/failure`, owner)).status, 400)
  const unknown = await call('DELETE', '/v1/environments/env_doesnotexist0000/failure', owner)
  assert.equal(unknown.status, 404, JSON.stringify(unknown.json))

  // A developer's deploy-scoped token clears staging through the API.
  const cleared = await call(
    'DELETE',
    `/v1/environments/${staging}/failure`,
    (deployToken.json as { token: string }).token,
  )
  assert.equal(cleared.status, 200, JSON.stringify(cleared.json))
  assert.deepEqual(cleared.json, { status: 'ok', failure: null })
  const st = (await call('GET', `/v1/environments/${staging}/status`, owner)).json
  assert.equal(st['status'], 'ok')
  assert.equal(st['failure'], null)
  const again = await call('DELETE', `/v1/environments/${staging}/failure`, owner)
  assert.equal(again.status, 409, 'nothing to clear')
  assert.equal((again.json['error'] as { code?: string } | undefined)?.code ?? again.json['code'], 'conflict')
  let events = await clears()
  assert.equal(events.length, 1, 'one audit event per clear')
  assert.equal(events[0]!.actor.type, 'token')
  assert.equal(events[0]!.target.id, staging)
  assert.deepEqual(events[0]!.changes['status'], { before: 'failed', after: 'ok' })

  // The owner clears production with the CLI.
  const api = await platform.app.listen({ host: '127.0.0.1', port: 0 })
  const cli = await runCli(['clear-failed', production], { PALISADE_API_URL: api, PALISADE_TOKEN: owner })
  assert.equal(cli.code, 0, cli.stderr)
  assert.match(cli.stdout, new RegExp(`environment ${production}: failed mark cleared`))
  assert.equal(await statusOf(production), 'ok')
  events = await clears()
  assert.equal(events.length, 2)
  assert.ok(events.some((e) => e.actor.type === 'user' && e.target.id === production))
  assert.doesNotMatch(await platform.monitor.metrics.render(), /palisade_environment_failed\{/)
  // The CLI says what went wrong when there is nothing to clear.
  const none = await runCli(['clear-failed', production], { PALISADE_API_URL: api, PALISADE_TOKEN: owner })
  assert.notEqual(none.code, 0)
  assert.match(none.stderr, /not marked failed/)
  assert.deepEqual([...HEALTH_AUDITED], ['delete /v1/environments/{id}/failure'], 'this suite calls each')
})
