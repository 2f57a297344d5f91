import assert from 'node:assert/strict'
import { connect } from 'node:net'
import path from 'node:path'
import { Writable } from 'node:stream'
import { test } from 'node:test'
import { createLogger } from '../src/shared/log.js'
import { addEnvironment, setUpOwner, waitBackup } from './backup-helpers.js'
import { startPlatform } from './support/platform.js'

function capture(): { stream: Writable; messages: () => string[] } {
  const chunks: string[] = []
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString())
      cb()
    },
  })
  return {
    stream,
    messages: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as { msg: string }).msg),
  }
}

test('palisade serve says in one sentence when a backup is created or restored, and when a git push deploys nothing', async (t) => {
  const c = capture()
  const tp = await startPlatform(
    t,
    'sqlite',
    {},
    { logger: createLogger({ level: 'info', destination: c.stream }) },
  )
  const { token, workspaceId } = await setUpOwner(tp)
  const envId = await addEnvironment(tp, token, workspaceId, 'shop')
  const host = `main.shop.acme.localhost`

  // Backups: created (with its size) and restored.
  const made = await tp.call('POST', `/v1/environments/${envId}/backups`, { token, body: { files: false } })
  assert.equal(made.statusCode, 201, made.body)
  const backup = await waitBackup(tp, token, (made.json() as { id: string }).id)
  assert.equal(backup.status, 'succeeded', backup.reason ?? '')
  assert.ok(
    c
      .messages()
      .some((m) => new RegExp(`^backup ${backup.id} of ${host} created \\(\\d+(\\.\\d)? (B|kB)\\)$`).test(m)),
    c.messages().join('\n'),
  )
  const restored = await tp.call('POST', `/v1/backups/${backup.id}/restore`, { token })
  assert.ok(restored.statusCode < 300, restored.body)
  assert.ok(
    c.messages().some((m) => m.startsWith(`backup ${backup.id} restored into ${host}`)),
    c.messages().join('\n'),
  )

  // A push to a repository the token cannot see: the pusher gets a 404, the operator a sentence.
  const apiToken = (
    (
      await tp.call('POST', '/v1/me/tokens', {
        token,
        body: { name: 'git', scopes: ['read', 'deploy'], expiresInDays: 1 },
      })
    ).json() as { token: string }
  ).token
  const push = await tp.platform.app.inject({
    method: 'POST',
    url: '/git/acme/nothing.git/git-receive-pack',
    headers: {
      authorization: `Basic ${Buffer.from(`x:${apiToken}`).toString('base64')}`,
      'content-type': 'application/x-git-receive-pack-request',
    },
    payload: '0000',
  })
  assert.equal(push.statusCode, 404, push.body)
  assert.ok(
    c
      .messages()
      .includes(
        'git push to acme/nothing.git refused: no such repository visible to owner@example.com; nothing deployed',
      ),
    c.messages().join('\n'),
  )
  const anonymous = await tp.platform.app.inject({
    method: 'POST',
    url: '/git/acme/shop.git/git-receive-pack',
    headers: { 'content-type': 'application/x-git-receive-pack-request' },
    payload: '0000',
  })
  assert.equal(anonymous.statusCode, 401)
  assert.ok(c.messages().some((m) => m.startsWith('git push to acme/shop.git refused: no valid API token')))

  // A hook that reports a push this control plane never received.
  await tp.platform.deploy.git.start()
  const answer = await new Promise<string>((resolve, reject) => {
    const socket = connect(path.join(tp.store.dataDir, 'run', 'git-hook.sock'), () =>
      socket.write(JSON.stringify({ pushId: 'not-a-push', updates: '' }) + '\n'),
    )
    let text = ''
    socket.on('data', (d: Buffer) => (text += d.toString()))
    socket.on('end', () => resolve(text))
    socket.on('error', reject)
  })
  assert.equal(answer, 'palisade: unknown push\n')
  assert.ok(
    c.messages().some((m) => m.startsWith('a git hook reported a push this control plane did not receive')),
    c.messages().join('\n'),
  )
})
