import assert from 'node:assert/strict'
import { test } from 'node:test'
import { countEvents } from './support/audit-events.js'
import { setUpOwner, startPlatform } from './support/platform.js'
import { runCli } from './support/processes.js'

/**
 * Issue 17, finding 11: deleting an environment destroys its services, persistent data and backups, so,
 * like `projects delete`, it needs `--force` (`?force=true`) when there is any; the refusal (409) says what
 * would be lost, and nothing is deleted or audited until it is forced.
 */
test('envs delete refuses (409, naming what would be lost) an environment with persistent data or backups unless forced', async (t) => {
  const tp = await startPlatform(t, 'sqlite')
  const { token, workspaceId } = await setUpOwner(tp)
  const project = (
    await tp.call('POST', `/v1/workspaces/${workspaceId}/projects`, { token, body: { name: 'shop' } })
  ).json() as { id: string }
  const env = async (name: string, body: Record<string, unknown> = {}): Promise<string> => {
    const res = await tp.call('POST', `/v1/projects/${project.id}/environments`, {
      token,
      body: { name, ...body },
    })
    assert.equal(res.statusCode, 201, res.body)
    return (res.json() as { id: string }).id
  }
  const empty = await env('scratch')
  const withData = await env('main', { persistentDirs: ['uploads'] })
  const withBackups = await env('staging')
  const backup = await tp.call('POST', `/v1/environments/${withBackups}/backups`, {
    token,
    body: { files: false },
  })
  assert.equal(backup.statusCode, 201, backup.body)

  // Nothing held: deleted as before.
  assert.equal((await tp.call('DELETE', `/v1/environments/${empty}`, { token })).statusCode, 204)

  for (const [id, lost] of [
    [withData, /persistent data in uploads/],
    [withBackups, /1 backup\b/],
  ] as const) {
    const before = await countEvents(tp.platform)
    const res = await tp.call('DELETE', `/v1/environments/${id}`, { token })
    assert.equal(res.statusCode, 409, res.body)
    const error = (res.json() as { error: { code: string; message: string } }).error
    assert.equal(error.code, 'conflict')
    assert.match(error.message, lost)
    assert.match(error.message, /force/)
    assert.equal(await countEvents(tp.platform), before, 'a refusal changes nothing')
    assert.equal((await tp.call('GET', `/v1/environments/${id}`, { token })).statusCode, 200, 'still there')
  }

  // API: ?force=true deletes it all, with one audit event.
  const before = await countEvents(tp.platform)
  assert.equal(
    (await tp.call('DELETE', `/v1/environments/${withBackups}?force=true`, { token })).statusCode,
    204,
  )
  assert.equal(await countEvents(tp.platform), before + 1)
  assert.equal((await tp.call('GET', `/v1/environments/${withBackups}`, { token })).statusCode, 404)

  // CLI: without --force exit 1 with the reason; with it, deleted.
  const api = await tp.platform.app.listen({ host: '127.0.0.1', port: 0 })
  const cli = { PALISADE_API_URL: api, PALISADE_TOKEN: token }
  const refused = await runCli(['envs', 'delete', 'main', '--project', 'shop', '--workspace', 'acme'], cli)
  assert.equal(refused.code, 1, refused.stdout + refused.stderr)
  assert.match(refused.stderr, /409/)
  assert.match(refused.stderr, /persistent data in uploads/)
  const forced = await runCli(
    ['envs', 'delete', 'main', '--project', 'shop', '--workspace', 'acme', '--force'],
    cli,
  )
  assert.equal(forced.code, 0, forced.stderr)
  assert.equal((await tp.call('GET', `/v1/environments/${withData}`, { token })).statusCode, 404)
})
