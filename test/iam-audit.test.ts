import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { IDENTITY_AUDITED } from './support/audit-elsewhere.js'
import { totpCode } from '../src/iam/index.js'
import { opensshLine } from '../src/iam/testing.js'
import { OWNER, setUpOwner, startPlatform, type TestPlatform } from './support/platform.js'

/**
 * Identity's mutating routes write exactly one audit event each, with the declared action; personal
 * settings go to the platform chain (workspace null), workspace changes to the workspace's chain.
 * Complements test/audit-coverage.test.ts, which lists these routes as covered elsewhere.
 */
interface Step {
  key: string
  /** Set-up that may write events of its own (measured from after it). */
  prepare?: () => Promise<void>
  run: () => Promise<{ status: number; requestId: string }>
  workspace: boolean
}

async function events(tp: TestPlatform): Promise<number> {
  const r = await tp.platform.store.db
    .selectFrom('audit_events')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow()
  return Number(r.n)
}

test('every identity route that changes something writes exactly one audit event with its declared action', async (t) => {
  const tp = await startPlatform(t, 'sqlite')
  const { token, workspaceId } = await setUpOwner(tp)
  const doc = (await tp.call('GET', '/v1/openapi.json')).json() as {
    paths: Record<string, Record<string, { 'x-palisade-audit'?: string }>>
  }
  const declared = (key: string): string | undefined => {
    const [method, p] = key.split(' ') as [string, string]
    return doc.paths[p]?.[method]?.['x-palisade-audit']
  }
  const ids: Record<string, string> = {}
  const send = async (method: string, url: string, body?: unknown, as = token) => {
    const res = await tp.call(method as 'POST', url, { token: as, ...(body === undefined ? {} : { body }) })
    return {
      status: res.statusCode,
      requestId: String(res.headers['x-request-id']),
      json: () => res.json() as Record<string, unknown>,
    }
  }
  const keep = async (name: string, p: ReturnType<typeof send>) => {
    const r = await p
    const body = r.json() as { id?: string; userId?: string }
    ids[name] = body.id ?? body.userId ?? ''
    return r
  }
  let secret = ''
  const steps: Step[] = [
    {
      key: 'post /v1/me/tokens',
      workspace: false,
      run: () => keep('token', send('POST', '/v1/me/tokens', { name: 'a', scopes: ['read'] })),
    },
    {
      key: 'post /v1/me/tokens/{id}/rotate',
      workspace: false,
      run: () => send('POST', `/v1/me/tokens/${ids['token']}/rotate`, { overlapHours: 1 }),
    },
    {
      key: 'delete /v1/me/tokens/{id}',
      workspace: false,
      run: () => send('DELETE', `/v1/me/tokens/${ids['token']}`),
    },
    {
      key: 'post /v1/me/ssh-keys',
      workspace: false,
      run: () =>
        keep(
          'ssh',
          send('POST', '/v1/me/ssh-keys', {
            publicKey: opensshLine(generateKeyPairSync('ed25519').publicKey),
          }),
        ),
    },
    {
      key: 'delete /v1/me/ssh-keys/{id}',
      workspace: false,
      run: () => send('DELETE', `/v1/me/ssh-keys/${ids['ssh']}`),
    },
    {
      key: 'post /v1/me/totp',
      workspace: false,
      run: async () => {
        const r = await send('POST', '/v1/me/totp')
        secret = String(r.json()['secret'])
        return r
      },
    },
    {
      key: 'post /v1/me/totp/confirm',
      workspace: false,
      run: () => send('POST', '/v1/me/totp/confirm', { code: totpCode(secret, new Date()) }),
    },
    {
      key: 'delete /v1/me/totp',
      workspace: false,
      run: () => send('DELETE', '/v1/me/totp', { password: OWNER.password }),
    },
    {
      key: 'post /v1/me/password',
      workspace: false,
      run: () =>
        send('POST', '/v1/me/password', { currentPassword: OWNER.password, newPassword: OWNER.password }),
    },
    {
      key: 'delete /v1/me/sessions/{id}',
      workspace: false,
      prepare: async () => {
        const other = (await tp.call('POST', '/v1/sessions', { body: OWNER })).json() as { token: string }
        const list = (await tp.call('GET', '/v1/me/sessions', { token: other.token })).json() as {
          items: Array<{ id: string; current: boolean }>
        }
        ids['session'] = list.items.find((s) => s.current)?.id as string
      },
      run: () => send('DELETE', `/v1/me/sessions/${ids['session']}`),
    },
    {
      key: 'post /v1/workspaces/{ws}/ip-groups',
      workspace: true,
      run: () =>
        keep(
          'ipg',
          send('POST', `/v1/workspaces/${workspaceId}/ip-groups`, {
            name: 'office',
            cidrs: ['192.0.2.0/24'],
          }),
        ),
    },
    {
      key: 'patch /v1/workspaces/{ws}/ip-groups/{id}',
      workspace: true,
      run: () => send('PATCH', `/v1/workspaces/${workspaceId}/ip-groups/${ids['ipg']}`, { name: 'hq' }),
    },
    {
      key: 'delete /v1/workspaces/{ws}/ip-groups/{id}',
      workspace: true,
      run: () => send('DELETE', `/v1/workspaces/${workspaceId}/ip-groups/${ids['ipg']}`),
    },
    {
      key: 'post /v1/workspaces/{ws}/members',
      workspace: true,
      run: () =>
        send('POST', `/v1/workspaces/${workspaceId}/members`, { email: 'new@example.com', role: 'viewer' }),
    },
    {
      key: 'post /v1/invitations/{token}/accept',
      workspace: true,
      run: async () => {
        const dir = path.join(tp.store.dataDir, 'outbox')
        const mail = readFileSync(path.join(dir, readdirSync(dir)[0] as string), 'utf8').replace(
          /=\r?\n/g,
          '',
        )
        const inv = /\/invitations\/(inv_[A-Za-z0-9_-]+)/.exec(mail)?.[1] as string
        return keep(
          'member',
          send('POST', `/v1/invitations/${inv}/accept`, { password: 'a new member passphrase 55' }, ''),
        )
      },
    },
    {
      key: 'patch /v1/workspaces/{ws}/members/{userId}',
      workspace: true,
      run: () =>
        send('PATCH', `/v1/workspaces/${workspaceId}/members/${ids['member']}`, { role: 'developer' }),
    },
    {
      key: 'delete /v1/workspaces/{ws}/members/{userId}',
      workspace: true,
      run: () => send('DELETE', `/v1/workspaces/${workspaceId}/members/${ids['member']}`),
    },
  ]
  assert.deepEqual(
    steps.map((s) => s.key).sort(),
    [...IDENTITY_AUDITED].sort(),
    'this suite calls every identity route listed in support/audit-elsewhere.ts',
  )
  for (const step of steps) {
    const action = declared(step.key)
    assert.ok(action, `${step.key} declares its audit action`)
    await step.prepare?.()
    const before = await events(tp)
    const res = await step.run()
    assert.ok(res.status < 300, `${step.key} → ${res.status}`)
    assert.equal(await events(tp), before + 1, `${step.key} writes exactly one event`)
    const ev = await tp.platform.store.db
      .selectFrom('audit_events')
      .selectAll()
      .where('request_id', '=', res.requestId)
      .executeTakeFirstOrThrow()
    assert.equal(ev.action, action, step.key)
    assert.equal(ev.outcome, 'success')
    assert.equal(ev.workspace_id, step.workspace ? workspaceId : null, `${step.key} chain`)
  }

  // Failed attempts are recorded too (one event each), in the platform chain.
  const before = await events(tp)
  const bad = await tp.call('POST', '/v1/me/password', {
    token,
    body: { currentPassword: 'not the password at all', newPassword: 'whatever new passphrase 1' },
  })
  assert.equal(bad.statusCode, 400)
  const ev = await tp.platform.store.db
    .selectFrom('audit_events')
    .selectAll()
    .where('request_id', '=', String(bad.headers['x-request-id']))
    .executeTakeFirstOrThrow()
  assert.equal(ev.outcome, 'failure')
  assert.equal(await events(tp), before + 1)
})
