/** Shared set-up of the backup import / schedule tests: a platform with a chosen clock, limit and master key. */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import type { Readable } from 'node:stream'
import type { LightMyRequestResponse } from 'fastify'
import type { Clock } from '../src/shared/clock.js'
import { OWNER, setUpOwner, signIn, startPlatform, type TestPlatform } from './support/platform.js'
import type { STORE_KINDS } from './support/stores.js'

export interface BackupView {
  id: string
  environmentId: string
  status: string
  reason: string | null
  sizeBytes: number | null
  sha256: string | null
  origin: string
  sourceEnvironmentId: string | null
  contents: { services: Array<{ name: string; type: string }>; files: string[] }
  createdAt: string
}

export interface PlatformChoice {
  kind?: (typeof STORE_KINDS)[number]
  clock?: Clock
  masterKey?: string
  importLimit?: number
  schedulerIntervalMs?: number
}

/** A platform (SQLite unless told) closed and dropped when the test ends; like startPlatform, with choices. */
export async function startBackupPlatform(
  t: { after(fn: () => Promise<void>): void },
  choice: PlatformChoice = {},
): Promise<TestPlatform> {
  return startPlatform(
    t,
    choice.kind ?? 'sqlite',
    {
      ...(choice.masterKey ? { masterKey: choice.masterKey } : {}),
      ...(choice.importLimit ? { backupImportLimit: String(choice.importLimit) } : {}),
    },
    {
      ...(choice.clock ? { clock: choice.clock } : {}),
      ...(choice.schedulerIntervalMs ? { backupScheduler: { intervalMs: choice.schedulerIntervalMs } } : {}),
    },
  )
}

export { OWNER, setUpOwner, signIn }

/** Creates a project (once per name) and an environment in it; answers the environment id. */
export async function addEnvironment(
  tp: TestPlatform,
  token: string,
  workspaceId: string,
  project: string,
  name = 'main',
  criticality = 'staging',
): Promise<string> {
  const list = (await tp.call('GET', `/v1/workspaces/${workspaceId}/projects`, { token })).json() as {
    items: Array<{ id: string; name: string }>
  }
  let projectId = list.items.find((p) => p.name === project)?.id
  if (!projectId) {
    const p = await tp.call('POST', `/v1/workspaces/${workspaceId}/projects`, {
      token,
      body: { name: project },
    })
    assert.equal(p.statusCode, 201, p.body)
    projectId = (p.json() as { id: string }).id
  }
  const e = await tp.call('POST', `/v1/projects/${projectId}/environments`, {
    token,
    body: { name, criticality },
  })
  assert.equal(e.statusCode, 201, e.body)
  return (e.json() as { id: string }).id
}

/** Invites `email` with `role`, accepts the invitation from the outbox and signs in. */
export async function addMember(
  tp: TestPlatform,
  ownerToken: string,
  workspaceId: string,
  email: string,
  role: string,
): Promise<string> {
  const password = 'member passphrase for backups 77'
  const inv = await tp.call('POST', `/v1/workspaces/${workspaceId}/members`, {
    token: ownerToken,
    body: { email, role },
  })
  assert.equal(inv.statusCode, 201, inv.body)
  const dir = path.join(tp.store.dataDir, 'outbox')
  let invitation: string | undefined
  for (const f of readdirSync(dir)) {
    const mail = readFileSync(path.join(dir, f), 'utf8')
      .replace(/=\r?\n/g, '')
      .replace(/=3D/g, '=')
    if (!mail.includes(`To: ${email}`)) continue
    invitation = /\/invitations\/(inv_[A-Za-z0-9_-]+)/.exec(mail)?.[1]
  }
  assert.ok(invitation, `an invitation for ${email}`)
  const acc = await tp.call('POST', `/v1/invitations/${invitation}/accept`, { body: { password } })
  assert.equal(acc.statusCode, 201, acc.body)
  return signIn(tp, email, password)
}

export async function waitBackup(tp: TestPlatform, token: string, id: string): Promise<BackupView> {
  const deadline = Date.now() + 240_000
  for (;;) {
    const b = (await tp.call('GET', `/v1/backups/${id}`, { token })).json() as BackupView
    if (b.status !== 'running') return b
    assert.ok(Date.now() < deadline, 'backup still running')
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** Creates a backup through the API and waits for it to finish. */
export async function backupNow(
  tp: TestPlatform,
  token: string,
  envId: string,
  body: Record<string, unknown> = {},
): Promise<BackupView> {
  const res = await tp.call('POST', `/v1/environments/${envId}/backups`, { token, body })
  assert.equal(res.statusCode, 201, res.body)
  const b = await waitBackup(tp, token, (res.json() as { id: string }).id)
  assert.equal(b.status, 'succeeded', b.reason ?? '')
  return b
}

export async function download(tp: TestPlatform, token: string, id: string): Promise<Buffer> {
  const dl = await tp.call('GET', `/v1/backups/${id}/download`, { token })
  assert.equal(dl.statusCode, 200, dl.body)
  return dl.rawPayload
}

/** POST …/backups/import with the archive as application/octet-stream (a Buffer, or a stream sent chunked). */
export function importArchive(
  tp: TestPlatform,
  token: string,
  envId: string,
  archive: Buffer | Readable,
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  return tp.platform.app.inject({
    method: 'POST',
    url: `/v1/environments/${envId}/backups/import`,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream', ...headers },
    payload: archive,
  })
}

export const errorCode = (res: { json(): unknown }): string =>
  (res.json() as { error: { code: string } }).error.code

/** An API token (read, write) for tests that move the clock by hours: a session would time out. */
export async function apiToken(tp: TestPlatform, session: string): Promise<string> {
  const res = await tp.call('POST', '/v1/me/tokens', {
    token: session,
    body: { name: 'backups-test', scopes: ['read', 'write'], expiresInDays: 30 },
  })
  assert.equal(res.statusCode, 201, res.body)
  return (res.json() as { token: string }).token
}
