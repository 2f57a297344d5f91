import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createEnvironmentHealth } from '../src/monitor/environment-health.js'
import { createShopEnvironment, setUpOwner, startPlatform, STORE_KINDS } from './support/platform.js'

/**
 * The failed mark on both stores (migration 0021): set once per crash loop with one audit event, kept while the
 * loop lasts, cleared (one audit event) only by a deployment that succeeded after it was set. The end-to-end
 * test with a real crash-looping app is test/monitor-alert-causes.test.ts.
 */
for (const kind of STORE_KINDS) {
  test(`[${kind}] a crash loop marks the environment failed once; a later successful deployment clears it`, async (t) => {
    const tp = await startPlatform(t, kind)
    const { token, workspaceId } = await setUpOwner(tp)
    const envId = await createShopEnvironment(tp, token, workspaceId, { name: 'main' })
    const { db } = tp.platform.store
    let now = Date.parse('2026-12-07T10:00:00.000Z')
    const health = createEnvironmentHealth({
      db,
      audit: tp.platform.audit,
      now: () => now,
      servingDeployment: (id) => (id === envId ? 'dep_serving' : null),
    })
    const loop = {
      workspaceId,
      rule: 'crash_loop' as const,
      subject: envId,
      environmentId: envId,
      summary: 'the app of environment main is crash-looping (5 restarts in 10 minutes)',
      value: 5,
    }
    const events = async (action: string) =>
      db.selectFrom('audit_events').select(['actor', 'changes']).where('action', '=', action).execute()

    assert.deepEqual(await health.of(envId), { status: 'ok', failure: null })
    assert.deepEqual(await health.markCrashLoops([loop]), [envId])
    assert.deepEqual(await health.of(envId), {
      status: 'failed',
      failure: {
        reason: 'crash_loop',
        summary: loop.summary,
        since: '2026-12-07T10:00:00.000Z',
        deploymentId: 'dep_serving',
      },
    })
    now += 5_000
    assert.deepEqual(await health.markCrashLoops([loop]), [], 'marked once while it lasts')
    const marked = await events('environment.failed')
    assert.equal(marked.length, 1)
    assert.equal((JSON.parse(marked[0]!.actor) as { type: string }).type, 'platform')

    // A deployment that finished before the mark does not clear it; one after it does.
    const deployment = (id: string, finishedAt: string, status: string) => ({
      id,
      environment_id: envId,
      workspace_id: workspaceId,
      project_id: 'prj_x',
      number: id === 'dep_before' ? 1 : 2,
      kind: 'deploy',
      status,
      ref: null,
      commit: null,
      release: null,
      runtime_version: null,
      source_release: null,
      reason: null,
      created_at: finishedAt,
      started_at: finishedAt,
      finished_at: finishedAt,
    })
    const project = await db
      .selectFrom('environments')
      .select('project_id')
      .where('id', '=', envId)
      .executeTakeFirstOrThrow()
    for (const d of [
      deployment('dep_before', '2026-12-07T09:59:59.000Z', 'succeeded'),
      deployment('dep_failed', '2026-12-07T10:00:03.000Z', 'failed'),
    ])
      await db
        .insertInto('deployments')
        .values({ ...d, project_id: project.project_id })
        .execute()
    assert.deepEqual(await health.clearRecovered(), [])
    assert.equal((await health.of(envId)).status, 'failed')
    await db
      .insertInto('deployments')
      .values({
        ...deployment('dep_after', '2026-12-07T10:00:04.000Z', 'succeeded'),
        number: 3,
        project_id: project.project_id,
      })
      .execute()
    assert.deepEqual(await health.clearRecovered(), [envId])
    assert.deepEqual(await health.of(envId), { status: 'ok', failure: null })
    const recovered = await events('environment.recovered')
    assert.equal(recovered.length, 1)
    assert.deepEqual(JSON.parse(recovered[0]!.changes)['deploymentId'], {
      before: 'dep_serving',
      after: 'dep_after',
    })
    assert.deepEqual(await health.clearRecovered(), [], 'cleared once')

    // Other rules and unknown environments mark nothing.
    assert.deepEqual(
      await health.markCrashLoops([
        { ...loop, rule: 'app_down' },
        { ...loop, environmentId: 'env_gone', subject: 'env_gone' },
      ]),
      [],
    )
  })
}
