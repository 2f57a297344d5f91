import assert from 'node:assert/strict'
import { test } from 'node:test'
import { addMember } from './support/members.js'
import { setUpOwner, startPlatform } from './support/platform.js'

/**
 * Issue 17, finding 5: viewers read a job's type, status and times, never its command text (which the
 * audit log deliberately omits: it may carry secrets passed inline) nor its output; on production the
 * command text and output need the role that may deploy production.
 */
test('viewers see job type, status and times but not command text or output; production output needs the production role', async (t) => {
  const tp = await startPlatform(t, 'sqlite')
  const { token, workspaceId } = await setUpOwner(tp)
  const project = (
    await tp.call('POST', `/v1/workspaces/${workspaceId}/projects`, { token, body: { name: 'shop' } })
  ).json() as { id: string }
  const env = async (name: string, criticality: string): Promise<string> => {
    const res = await tp.call('POST', `/v1/projects/${project.id}/environments`, {
      token,
      body: { name, criticality },
    })
    assert.equal(res.statusCode, 201, res.body)
    return (res.json() as { id: string }).id
  }
  const staging = await env('staging', 'staging')
  const prod = await env('main', 'production')
  const viewer = await addMember(tp, token, workspaceId, 'viewer@example.com', 'viewer')
  const dev = await addMember(tp, token, workspaceId, 'dev@example.com', 'developer')
  const admin = await addMember(tp, token, workspaceId, 'admin@example.com', 'admin')

  // A job with output (maintenance notes it) in each environment, and a finished custom command (as a
  // release would have run it; a command job needs a real build) whose command line holds a secret.
  const jobs: Record<string, string> = {}
  for (const [name, id] of [
    ['staging', staging],
    ['prod', prod],
  ] as const) {
    const res = await tp.call('POST', `/v1/environments/${id}/jobs`, {
      token,
      body: { type: 'maintenance-on' },
    })
    assert.equal(res.statusCode, 202, res.body)
    jobs[name] = (res.json() as { id: string }).id
    const at = new Date().toISOString()
    await tp.platform.store.db
      .insertInto('jobs')
      .values({
        id: `job_cmd${name}`,
        environment_id: id,
        workspace_id: workspaceId,
        type: 'command',
        command: 'curl -H "Authorization: Bearer s3cret-api-key" https://example.com/',
        status: 'succeeded',
        exit_code: 0,
        reason: null,
        created_at: at,
        finished_at: at,
      })
      .execute()
  }
  type Job = { id: string; type: string; status: string; createdAt: string; command: string | null }
  const view = async (as: string, envId: string, name: string) => {
    const list = await tp.call('GET', `/v1/environments/${envId}/jobs`, { token: as })
    assert.equal(list.statusCode, 200, list.body)
    const one = await tp.call('GET', `/v1/jobs/job_cmd${name}`, { token: as })
    assert.equal(one.statusCode, 200, one.body)
    const logs = await tp.call('GET', `/v1/jobs/${jobs[name]}/logs`, { token: as })
    return { items: (list.json() as { items: Job[] }).items, one: one.json() as Job, logs }
  }

  for (const [who, as, envId, name, full] of [
    ['viewer on staging', viewer.token, staging, 'staging', false],
    ['viewer on production', viewer.token, prod, 'prod', false],
    ['developer on staging', dev.token, staging, 'staging', true],
    ['developer on production', dev.token, prod, 'prod', false],
    ['admin on production', admin.token, prod, 'prod', true],
  ] as const) {
    const v = await view(as, envId, name)
    const cmd = v.items.find((j) => j.type === 'command')
    assert.ok(cmd, `${who}: the command job is listed`)
    assert.equal(cmd.status, 'succeeded', `${who}: status is visible`)
    assert.ok(cmd.createdAt, `${who}: times are visible`)
    if (full) {
      assert.match(cmd.command ?? '', /s3cret-api-key/, `${who}: reads the command`)
      assert.match(v.one.command ?? '', /s3cret-api-key/)
      assert.equal(v.logs.statusCode, 200, `${who}: reads the output`)
      assert.match(v.logs.body, /maintenance mode on/)
    } else {
      assert.equal(cmd.command, null, `${who}: no command text in the list`)
      assert.equal(v.one.command, null, `${who}: no command text in the job`)
      assert.doesNotMatch(JSON.stringify(v.items) + JSON.stringify(v.one), /s3cret/)
      assert.equal(v.logs.statusCode, 403, `${who}: no output (${v.logs.body})`)
      assert.doesNotMatch(v.logs.body, /maintenance mode on/)
    }
  }
})
