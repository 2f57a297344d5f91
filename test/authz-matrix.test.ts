import assert from 'node:assert/strict'
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { RULES, roleAtLeast, signRequest, totpCode, type Action, type Role } from '../src/iam/index.js'
import { opensshLine } from '../src/iam/testing.js'
import { OWNER, setUpOwner, signIn, startPlatform, type TestPlatform } from './support/platform.js'

/**
 * The authorization matrix (issue 4, ASVS V8): every route of the OpenAPI document × every role ×
 * own and foreign workspace. The expected decision comes from RULES and the route → action map
 * below; a route in the document without an entry fails the suite, so a new route cannot ship
 * without a rule. Own objects: allowed → not 401/403/404, denied → 403. Foreign objects → 404
 * for every role. No credential → 401 on every `required` route.
 *
 * SQLite only: authorization is one function over one query that both stores answer alike (the
 * identity suites run on both); the matrix is ~700 requests plus fixture sign-ins.
 */

const ROLE_ORDER: readonly Role[] = ['viewer', 'developer', 'admin', 'owner']
const PASSWORD = 'matrix member passphrase 4242'

type Target =
  | 'ws'
  | 'project'
  | 'env'
  | 'deployment'
  | 'backup'
  | 'ipgroup'
  | 'member'
  | 'token'
  | 'session'
  | 'sshkey'
  | 'job'
  | 'missing'
  | 'channel'

interface Actor {
  role: Role
  token: string
  userId: string
  email: string
}

interface Fixture {
  tp: TestPlatform
  owner: Actor
  actors: Record<Role, Actor>
  own: Record<string, string>
  foreign: Record<string, string>
  counter: () => number
}

interface Entry {
  /**
   * Workspace action (decided by RULES), `self` (own account), `user` (any signed-in user), `public`, or
   * `signed` (RFC 9421 signed requests only).
   */
  rule: Action | 'self' | 'user' | 'public' | 'signed'
  /** What `{id}` names (workspace routes use `{ws}`). */
  id?: Target
  /** Runs the environment routes once per criticality (production has higher minimum roles). */
  env?: boolean
  body?: (f: Fixture, actor: Actor) => unknown
  /** Fresh own ids for destructive routes (so one case cannot starve the next). */
  fresh?: (f: Fixture, actor: Actor, criticality: string) => Promise<Record<string, string>>
  after?: (f: Fixture, actor: Actor) => Promise<void>
  /** Why this route cannot get a fixture object here (expected 404 for all; listed in the report). */
  missing?: string
  /**
   * Pinned lowest roles, checked besides RULES (issue 17): the test fails if RULES loosen them. On a project
   * route with `env`, "production" is a project that has a production environment.
   */
  pinned?: { staging?: Role; production?: Role }
}

async function created(
  tp: TestPlatform,
  token: string,
  method: 'POST' | 'PUT',
  url: string,
  body: unknown,
): Promise<{ id: string; name?: string }> {
  const res = await tp.call(method, url, { token, body })
  assert.ok(
    res.statusCode === 201 || res.statusCode === 200,
    `${method} ${url}: ${res.statusCode} ${res.body}`,
  )
  return res.json() as { id: string; name?: string }
}

const n = (f: Fixture): number => f.counter()

const freshEnv = async (f: Fixture, _a: Actor, crit: string) => ({
  id: (
    await created(f.tp, f.owner.token, 'POST', `/v1/projects/${f.own['project']}/environments`, {
      name: `gone-${n(f)}`,
      criticality: crit,
    })
  ).id,
})

const ROUTES: Record<string, Entry> = {
  'get /v1/openapi.json': { rule: 'public' },
  'get /v1/health': { rule: 'public' },
  'post /v1/setup': { rule: 'public' },
  'post /v1/sessions': { rule: 'public' },
  'get /v1/audit/public-key': { rule: 'public' },
  'post /v1/invitations/{token}/accept': { rule: 'public' },
  'get /v1/invitations/{token}': { rule: 'public' },
  'post /v1/password-reset': { rule: 'public' },
  'post /v1/password-reset/confirm': { rule: 'public' },
  'get /v1/runtimes': { rule: 'user' },
  'post /v1/workspaces/{ws}/incidents': {
    rule: 'incident.create',
    body: () => ({ actions: ['notify'], reason: 'drill' }),
  },
  // Signed requests only: every caller here has a plain bearer, so every call is 401 (test/decide.test.ts
  // checks the roles with signed tokens).
  'post /v1/decide': { rule: 'signed', body: () => ({ method: 'GET', uri: '/' }) },
  'get /v1/workspaces': { rule: 'user' },
  'post /v1/workspaces': { rule: 'user', body: (f) => ({ name: `ws-${n(f)}` }) },
  'delete /v1/sessions/current': {
    rule: 'self',
    // Signs in again so that the actor's main session survives.
    fresh: async (f, a) => ({
      token: await signIn(f.tp, a.email, a.role === 'owner' ? OWNER.password : PASSWORD),
    }),
  },

  'get /v1/me': { rule: 'self' },
  'post /v1/me/password': {
    rule: 'self',
    body: (_f, a) => ({
      currentPassword: a.role === 'owner' ? OWNER.password : PASSWORD,
      newPassword: a.role === 'owner' ? OWNER.password : PASSWORD,
    }),
  },
  'get /v1/me/sessions': { rule: 'self' },
  'delete /v1/me/sessions/{id}': {
    rule: 'self',
    id: 'session',
    fresh: async (f, a) => {
      const t = await signIn(f.tp, a.email, a.role === 'owner' ? OWNER.password : PASSWORD)
      const list = (await f.tp.call('GET', '/v1/me/sessions', { token: t })).json() as {
        items: Array<{ id: string; current: boolean }>
      }
      return { id: list.items.find((s) => s.current)?.id as string }
    },
  },
  'post /v1/me/totp': { rule: 'self' },
  'post /v1/me/totp/confirm': {
    rule: 'self',
    fresh: async (f, a) => {
      const { secret } = (await f.tp.call('POST', '/v1/me/totp', { token: a.token })).json() as {
        secret: string
      }
      return { code: totpCode(secret, new Date()) }
    },
    body: (_f, a) => ({ code: (a as Actor & { code?: string }).code }),
    after: async (f, a) => {
      const res = await f.tp.call('DELETE', '/v1/me/totp', {
        token: a.token,
        body: { password: a.role === 'owner' ? OWNER.password : PASSWORD },
      })
      assert.equal(res.statusCode, 204, res.body)
    },
  },
  // 2FA is off for the matrix's actors: allowed, and answered 400 (not on), never 401/403/404.
  'post /v1/me/totp/recovery-codes': { rule: 'self', body: () => ({ code: '000000' }) },
  'delete /v1/me/totp': {
    rule: 'self',
    body: (_f, a) => ({ password: a.role === 'owner' ? OWNER.password : PASSWORD }),
  },
  'get /v1/me/tokens': { rule: 'self' },
  'post /v1/me/tokens': { rule: 'self', body: () => ({ name: 'matrix', scopes: ['read'] }) },
  'post /v1/me/tokens/{id}/rotate': {
    rule: 'self',
    id: 'token',
    fresh: async (f, a) => ({
      id: (await created(f.tp, a.token, 'POST', '/v1/me/tokens', { name: 'r', scopes: ['read'] })).id,
    }),
  },
  'delete /v1/me/tokens/{id}': {
    rule: 'self',
    id: 'token',
    fresh: async (f, a) => ({
      id: (await created(f.tp, a.token, 'POST', '/v1/me/tokens', { name: 'd', scopes: ['read'] })).id,
    }),
  },
  'get /v1/me/ssh-keys': { rule: 'self' },
  'post /v1/me/ssh-keys': {
    rule: 'self',
    body: () => ({ publicKey: opensshLine(generateKeyPairSync('ed25519').publicKey) }),
  },
  'delete /v1/me/ssh-keys/{id}': {
    rule: 'self',
    id: 'sshkey',
    fresh: async (f, a) => ({
      id: (
        await created(f.tp, a.token, 'POST', '/v1/me/ssh-keys', {
          publicKey: opensshLine(generateKeyPairSync('ed25519').publicKey),
        })
      ).id,
    }),
  },

  'get /v1/workspaces/{ws}': { rule: 'workspace.read' },
  'patch /v1/workspaces/{ws}': { rule: 'workspace.update', body: () => ({ displayName: 'Acme' }) },
  'delete /v1/workspaces/{ws}': { rule: 'workspace.delete' },
  'get /v1/workspaces/{ws}/members': { rule: 'member.read' },
  'get /v1/workspaces/{ws}/invitations': { rule: 'member.manage' },
  'post /v1/workspaces/{ws}/members': {
    rule: 'member.manage',
    body: (f) => ({ email: `invitee-${n(f)}@example.com`, role: 'viewer' }),
  },
  'patch /v1/workspaces/{ws}/members/{userId}': {
    rule: 'member.manage',
    id: 'member',
    body: () => ({ role: 'viewer' }),
  },
  'delete /v1/workspaces/{ws}/members/{userId}': {
    rule: 'member.manage',
    id: 'member',
    fresh: async (f) => ({
      userId: (
        await addMember(f.tp, f.owner.token, f.own['ws'] as string, `leaver-${n(f)}@example.com`, 'viewer')
      ).userId,
    }),
  },
  'get /v1/workspaces/{ws}/ip-groups': { rule: 'ipgroup.read' },
  'post /v1/workspaces/{ws}/ip-groups': {
    rule: 'ipgroup.manage',
    body: (f) => ({ name: `net-${n(f)}`, cidrs: ['192.0.2.0/24'] }),
  },
  'patch /v1/workspaces/{ws}/ip-groups/{id}': {
    rule: 'ipgroup.manage',
    id: 'ipgroup',
    body: () => ({ cidrs: ['198.51.100.0/24'] }),
  },
  'delete /v1/workspaces/{ws}/ip-groups/{id}': {
    rule: 'ipgroup.manage',
    id: 'ipgroup',
    fresh: async (f) => ({
      id: (
        await created(f.tp, f.owner.token, 'POST', `/v1/workspaces/${f.own['ws']}/ip-groups`, {
          name: `gone-${n(f)}`,
          cidrs: [],
        })
      ).id,
    }),
  },
  'get /v1/workspaces/{ws}/audit-events': { rule: 'audit.read' },
  'get /v1/environments/{id}/logs': { rule: 'deployment.read', id: 'env', env: true },
  'get /v1/workspaces/{ws}/alert-rules': { rule: 'alert.read' },
  'put /v1/workspaces/{ws}/alert-rules/{name}': {
    rule: 'alert.manage',
    fresh: () => Promise.resolve({ name: 'disk' }),
    body: () => ({ muted: false }),
  },
  'get /v1/workspaces/{ws}/alert-channels': { rule: 'alert.read' },
  'post /v1/workspaces/{ws}/alert-channels': {
    rule: 'alert.manage',
    body: (f) => ({ name: `mail-${n(f)}`, kind: 'email', email: 'ops@example.com' }),
  },
  'delete /v1/workspaces/{ws}/alert-channels/{id}': {
    rule: 'alert.manage',
    id: 'channel',
    fresh: async (f) => ({
      id: (
        await created(f.tp, f.owner.token, 'POST', `/v1/workspaces/${f.own['ws']}/alert-channels`, {
          name: `gone-${n(f)}`,
          kind: 'email',
          email: 'gone@example.com',
        })
      ).id,
    }),
  },
  'get /v1/workspaces/{ws}/alerts': { rule: 'alert.read' },
  'get /v1/workspaces/{ws}/alert-deliveries': { rule: 'alert.read' },
  'get /v1/workspaces/{ws}/audit-checkpoints': { rule: 'audit.read' },
  'get /v1/workspaces/{ws}/audit-verification': { rule: 'audit.read' },
  'get /v1/workspaces/{ws}/projects': { rule: 'project.read' },
  'post /v1/workspaces/{ws}/projects': { rule: 'project.create', body: (f) => ({ name: `p-${n(f)}` }) },

  'get /v1/projects/{id}': { rule: 'project.read', id: 'project' },
  'get /v1/projects/{id}/anonymization': { rule: 'project.read', id: 'project' },
  // Anonymization rules decide what leaves production in a production → staging copy: production's bar.
  'put /v1/projects/{id}/anonymization': {
    rule: 'project.update',
    id: 'project',
    env: true,
    pinned: { staging: 'developer', production: 'admin' },
    body: () => ({ rules: [{ service: 'mariadb', table: 'users', column: 'email', method: 'fake-email' }] }),
  },
  // Repository and name (part of every host) are what production runs and answers as: production's bar.
  'patch /v1/projects/{id}': {
    rule: 'project.update',
    id: 'project',
    env: true,
    pinned: { staging: 'developer', production: 'admin' },
    body: (f) => ({ repository: `https://git.example.com/shop-${n(f)}.git` }),
  },
  'delete /v1/projects/{id}': {
    rule: 'project.delete',
    id: 'project',
    fresh: async (f) => ({
      id: (
        await created(f.tp, f.owner.token, 'POST', `/v1/workspaces/${f.own['ws']}/projects`, {
          name: `gone-${n(f)}`,
        })
      ).id,
    }),
  },
  'get /v1/projects/{id}/environments': { rule: 'environment.read', id: 'project' },
  'post /v1/projects/{id}/environments': {
    rule: 'environment.create',
    id: 'project',
    body: (f) => ({ name: `e-${n(f)}`, criticality: 'development' }),
  },

  'get /v1/environments/{id}': { rule: 'environment.read', id: 'env', env: true },
  'patch /v1/environments/{id}': {
    rule: 'environment.update',
    id: 'env',
    env: true,
    body: () => ({ branch: 'main' }),
  },
  'delete /v1/environments/{id}': { rule: 'environment.delete', id: 'env', env: true, fresh: freshEnv },
  'get /v1/environments/{id}/variables': { rule: 'variable.read', id: 'env', env: true },
  'put /v1/environments/{id}/variables': {
    rule: 'variable.write',
    id: 'env',
    env: true,
    body: () => ({ variables: [{ name: 'A', value: '1' }] }),
  },
  'get /v1/environments/{id}/variables/{name}': { rule: 'variable.read', id: 'env', env: true },
  'put /v1/environments/{id}/variables/{name}': {
    rule: 'variable.write',
    id: 'env',
    env: true,
    body: () => ({ value: '2' }),
  },
  'delete /v1/environments/{id}/variables/{name}': {
    rule: 'variable.write',
    id: 'env',
    env: true,
    fresh: async (f, _a, crit) => {
      const id = f.own[crit === 'production' ? 'envProd' : 'env'] as string
      const name = `GONE_${n(f)}`
      await created(f.tp, f.owner.token, 'PUT', `/v1/environments/${id}/variables/${name}`, { value: 'x' })
      return { id, name }
    },
  },
  'get /v1/environments/{id}/waf': { rule: 'waf.read', id: 'env', env: true },
  'put /v1/environments/{id}/waf': {
    rule: 'waf.manage',
    id: 'env',
    env: true,
    body: () => ({ paranoia: 1 }),
  },
  'get /v1/environments/{id}/waf-events': { rule: 'waf.read', id: 'env', env: true },
  'get /v1/environments/{id}/waf-events/summary': { rule: 'waf.read', id: 'env', env: true },
  'get /v1/environments/{id}/runtime-updates': { rule: 'environment.read', id: 'env', env: true },
  'post /v1/environments/{id}/runtime-updates/postpone': {
    rule: 'environment.update',
    id: 'env',
    env: true,
    body: () => ({ until: new Date(Date.now() + 86_400_000).toISOString() }),
  },
  'get /v1/environments/{id}/deployments': { rule: 'deployment.read', id: 'env', env: true },
  // Deploying or rolling back production runs code with production's secrets: production's bar.
  'post /v1/environments/{id}/deployments': {
    rule: 'deployment.create',
    id: 'env',
    env: true,
    pinned: { staging: 'developer', production: 'admin' },
    body: () => ({}),
  },
  'post /v1/environments/{id}/rollback': {
    rule: 'deployment.create',
    id: 'env',
    env: true,
    pinned: { staging: 'developer', production: 'admin' },
    body: () => ({}),
  },
  'get /v1/environments/{id}/status': { rule: 'deployment.read', id: 'env', env: true },
  // Clearing the failed mark trusts the current release again: the bar of a deployment (409 when not marked).
  'delete /v1/environments/{id}/failure': {
    rule: 'deployment.create',
    id: 'env',
    env: true,
    pinned: { staging: 'developer', production: 'admin' },
  },
  'post /v1/environments/{id}/jobs': {
    rule: 'job.run',
    id: 'env',
    env: true,
    body: () => ({ type: 'flush-cache' }),
  },
  'get /v1/environments/{id}/jobs': { rule: 'deployment.read', id: 'env', env: true },
  'get /v1/environments/{id}/access': { rule: 'environment.read', id: 'env', env: true },
  'put /v1/environments/{id}/access': {
    rule: 'access.manage',
    id: 'env',
    env: true,
    body: () => ({ ipAllow: [], ipGroups: [], password: null }),
  },
  'patch /v1/environments/{id}/access': {
    rule: 'access.manage',
    id: 'env',
    env: true,
    body: () => ({ ipAllow: [] }),
  },
  'get /v1/environments/{id}/domains': { rule: 'environment.read', id: 'env', env: true },
  'post /v1/environments/{id}/domains': {
    rule: 'domain.manage',
    id: 'env',
    env: true,
    body: (f) => ({ name: `d${n(f)}.example.com` }),
  },
  'post /v1/environments/{id}/domains/{name}/verify': {
    rule: 'domain.manage',
    id: 'env',
    env: true,
    fresh: async (f, _a, crit) => {
      const id = f.own[crit === 'production' ? 'envProd' : 'env'] as string
      const name = `proof${n(f)}.example.com`
      await created(f.tp, f.owner.token, 'POST', `/v1/environments/${id}/domains`, { name })
      return { id, domainName: name }
    },
  },
  'delete /v1/environments/{id}/domains/{name}': {
    rule: 'domain.manage',
    id: 'env',
    env: true,
    fresh: async (f, _a, crit) => {
      const id = f.own[crit === 'production' ? 'envProd' : 'env'] as string
      const name = `gone${n(f)}.example.com`
      await created(f.tp, f.owner.token, 'POST', `/v1/environments/${id}/domains`, { name })
      return { id, domainName: name }
    },
  },
  'get /v1/environments/{id}/services': { rule: 'service.read', id: 'env', env: true },
  // An unavailable version is refused after authorization: allowed roles get 400, nothing is provisioned.
  'post /v1/environments/{id}/services': {
    rule: 'service.manage',
    id: 'env',
    env: true,
    body: () => ({ type: 'redis', version: '1' }),
  },

  'get /v1/environments/{id}/backups': { rule: 'service.read', id: 'env', env: true },
  // Authorized before the body is read; allowed roles then get 400 (a JSON body is not an archive).
  'post /v1/environments/{id}/backups/import': {
    rule: 'service.manage',
    id: 'env',
    env: true,
    body: () => ({}),
  },
  'get /v1/environments/{id}/backup-schedule': { rule: 'service.read', id: 'env', env: true },
  'put /v1/environments/{id}/backup-schedule': {
    rule: 'service.manage',
    id: 'env',
    env: true,
    body: () => ({ enabled: false, everyHours: 24, keep: 7, files: true }),
  },
  // Allowed roles get 422 (a target synced from itself, or nothing to copy): refusals happen before any work.
  'post /v1/environments/{id}/sync': {
    rule: 'service.manage',
    id: 'env',
    env: true,
    body: (f) => ({ from: f.own['env'] }),
  },
  'get /v1/environments/{id}/syncs': { rule: 'service.read', id: 'env', env: true },
  'get /v1/syncs/{id}': {
    rule: 'service.read',
    id: 'missing',
    missing: 'a sync needs running database services',
  },
  // Allowed roles start a real (small: no services, no files) backup; refusals happen before any work.
  'post /v1/environments/{id}/backups': {
    rule: 'service.manage',
    id: 'env',
    env: true,
    body: () => ({ files: false }),
  },
  'get /v1/backups/{id}': { rule: 'service.read', id: 'backup' },
  'get /v1/backups/{id}/download': { rule: 'service.manage', id: 'backup' },
  'post /v1/backups/{id}/restore': { rule: 'service.manage', id: 'backup', body: () => ({}) },
  'delete /v1/backups/{id}': {
    rule: 'service.manage',
    id: 'backup',
    fresh: async (f) => ({
      id: (
        await created(f.tp, f.owner.token, 'POST', `/v1/environments/${f.own['env']}/backups`, {
          files: false,
        })
      ).id,
    }),
  },
  'get /v1/deployments/{id}': { rule: 'deployment.read', id: 'deployment' },
  'get /v1/deployments/{id}/logs': { rule: 'deployment.read', id: 'deployment' },
  // Everyone reads a job's type, status and times (tests/jobs-visibility checks the command text is hidden).
  'get /v1/jobs/{id}': { rule: 'deployment.read', id: 'job', env: true },
  // A job's output: developers, and on production the level that may deploy it.
  'get /v1/jobs/{id}/logs': {
    rule: 'job.read',
    id: 'job',
    env: true,
    pinned: { staging: 'developer', production: 'admin' },
  },
  'get /v1/services/{id}': {
    rule: 'service.read',
    id: 'missing',
    missing: 'a service starts a real database process',
  },
  'delete /v1/services/{id}': {
    rule: 'service.manage',
    id: 'missing',
    missing: 'a service starts a real database process',
  },
  'get /v1/services/{id}/logs': {
    rule: 'service.read',
    id: 'missing',
    missing: 'a service starts a real database process',
  },
  'get /v1/services/{id}/credentials': {
    rule: 'service.credentials',
    id: 'missing',
    missing: 'a service starts a real database process',
  },
}

/** Destructive routes on the fixture itself run last, in this order. */
const LAST = ['delete /v1/workspaces/{ws}']

function invitationToken(tp: TestPlatform, email: string): string {
  const dir = path.join(tp.store.dataDir, 'outbox')
  for (const f of readdirSync(dir)) {
    const mail = readFileSync(path.join(dir, f), 'utf8')
      .replace(/=\r?\n/g, '')
      .replace(/=3D/g, '=')
    if (!mail.includes(`To: ${email}`)) continue
    const m = /\/invitations\/(inv_[A-Za-z0-9_-]+)/.exec(mail)
    if (m) return m[1] as string
  }
  throw new Error(`no invitation for ${email}`)
}

async function addMember(
  tp: TestPlatform,
  token: string,
  ws: string,
  email: string,
  role: Role,
): Promise<{ userId: string }> {
  const inv = await tp.call('POST', `/v1/workspaces/${ws}/members`, { token, body: { email, role } })
  assert.equal(inv.statusCode, 201, inv.body)
  const acc = await tp.call('POST', `/v1/invitations/${invitationToken(tp, email)}/accept`, {
    body: { password: PASSWORD },
  })
  assert.equal(acc.statusCode, 201, acc.body)
  return { userId: (acc.json() as { userId: string }).userId }
}

async function buildFixture(tp: TestPlatform): Promise<Fixture> {
  let counter = 0
  const { token, workspaceId } = await setUpOwner(tp)
  const ownerId = ((await tp.call('GET', '/v1/me', { token })).json() as { id: string }).id
  const owner: Actor = { role: 'owner', token, userId: ownerId, email: OWNER.email }
  const actors = { owner } as Record<Role, Actor>
  for (const role of ['admin', 'developer', 'viewer'] as const) {
    const email = `${role}@example.com`
    const { userId } = await addMember(tp, token, workspaceId, email, role)
    actors[role] = { role, token: await signIn(tp, email, PASSWORD), userId, email }
  }
  // The foreign workspace belongs to an outsider who is not a member of acme.
  const outsiderEmail = 'outsider@example.com'
  const { userId: outsiderId } = await addMember(tp, token, workspaceId, outsiderEmail, 'viewer')
  const outsider = await signIn(tp, outsiderEmail, PASSWORD)
  assert.equal(
    (await tp.call('DELETE', `/v1/workspaces/${workspaceId}/members/${outsiderId}`, { token })).statusCode,
    204,
  )
  const foreignWs = await created(tp, outsider, 'POST', '/v1/workspaces', { name: 'globex' })
  const { userId: foreignMember } = await addMember(
    tp,
    outsider,
    foreignWs.id,
    'globex-dev@example.com',
    'developer',
  )

  const objects = async (t: string, ws: string): Promise<Record<string, string>> => {
    const project = (await created(tp, t, 'POST', `/v1/workspaces/${ws}/projects`, { name: 'shop' })).id
    const env = (
      await created(tp, t, 'POST', `/v1/projects/${project}/environments`, {
        name: 'staging',
        criticality: 'staging',
      })
    ).id
    const envProd = (
      await created(tp, t, 'POST', `/v1/projects/${project}/environments`, {
        name: 'main',
        criticality: 'production',
      })
    ).id
    for (const e of [env, envProd])
      await created(tp, t, 'PUT', `/v1/environments/${e}/variables/A`, { value: '1' })
    const ipgroup = (
      await created(tp, t, 'POST', `/v1/workspaces/${ws}/ip-groups`, {
        name: 'office',
        cidrs: ['192.0.2.0/24'],
      })
    ).id
    const deployment = (await created(tp, t, 'POST', `/v1/environments/${env}/deployments`, {})).id
    const backup = (await created(tp, t, 'POST', `/v1/environments/${env}/backups`, { files: false })).id
    const tokenId = (await created(tp, t, 'POST', '/v1/me/tokens', { name: 'theirs', scopes: ['read'] })).id
    const sshkey = (
      await created(tp, t, 'POST', '/v1/me/ssh-keys', {
        publicKey: opensshLine(generateKeyPairSync('ed25519').publicKey),
      })
    ).id
    const session = (
      (await tp.call('GET', '/v1/me/sessions', { token: t })).json() as { items: Array<{ id: string }> }
    ).items[0]?.id as string
    const domain = (
      await created(tp, t, 'POST', `/v1/environments/${env}/domains`, { name: `${ws.slice(-8)}.example.com` })
    ).name as string
    // A project without production (project routes' "staging" column), and a job in each environment.
    const projectStaging = (await created(tp, t, 'POST', `/v1/workspaces/${ws}/projects`, { name: 'lab' })).id
    await created(tp, t, 'POST', `/v1/projects/${projectStaging}/environments`, {
      name: 'staging',
      criticality: 'staging',
    })
    const jobOf = async (e: string): Promise<string> => {
      const res = await tp.call('POST', `/v1/environments/${e}/jobs`, {
        token: t,
        body: { type: 'maintenance-off' },
      })
      assert.equal(res.statusCode, 202, res.body)
      return (res.json() as { id: string }).id
    }
    return {
      ws,
      project,
      projectStaging,
      job: await jobOf(env),
      jobProd: await jobOf(envProd),
      env,
      envProd,
      ipgroup,
      deployment,
      backup,
      token: tokenId,
      sshkey,
      session,
      name: 'A',
      domain,
    }
  }
  const own = await objects(token, workspaceId)
  const foreign = await objects(outsider, foreignWs.id)
  own['member'] = actors.viewer.userId
  foreign['member'] = foreignMember
  own['missing'] = foreign['missing'] = 'x_doesnotexist'
  return { tp, owner, actors, own, foreign, counter: () => ++counter }
}

function expected(entry: Entry, role: Role, criticality: string): 'allow' | 'deny' {
  if (entry.rule === 'signed') return 'deny'
  if (entry.rule === 'self' || entry.rule === 'user' || entry.rule === 'public') return 'allow'
  const pinned = entry.pinned?.[criticality === 'production' ? 'production' : 'staging']
  // An action without a rule is denied by authorize(); a pinned minimum still says what is expected.
  const rule = RULES[entry.rule] as (typeof RULES)[Action] | undefined
  if (!rule) return pinned !== undefined && roleAtLeast(role, pinned) ? 'allow' : 'deny'
  const min = criticality === 'production' && rule.productionMinRole ? rule.productionMinRole : rule.minRole
  return roleAtLeast(role, min) && (pinned === undefined || roleAtLeast(role, pinned)) ? 'allow' : 'deny'
}

function fill(template: string, ids: Record<string, string>, entry: Entry, criticality: string): string {
  const prod = criticality === 'production'
  const idKey =
    entry.env && entry.id === 'env'
      ? prod
        ? 'envProd'
        : 'env'
      : entry.env && entry.id === 'job'
        ? prod
          ? 'jobProd'
          : 'job'
        : entry.env && entry.id === 'project'
          ? prod
            ? 'project'
            : 'projectStaging'
          : (entry.id ?? 'ws')
  return template
    .replace('{ws}', ids['ws'] as string)
    .replace('{id}', ids['id'] ?? (ids[idKey] as string))
    .replace('{userId}', ids['userId'] ?? (ids['member'] as string))
    .replace(
      '{name}',
      (entry.rule === 'domain.manage' ? (ids['domainName'] ?? ids['domain']) : ids['name']) as string,
    )
    .replace('{token}', 'inv_x')
}

test('every route × role × own/foreign workspace gets the decision RULES give (no route without a rule)', async (t) => {
  const tp = await startPlatform(t, 'sqlite')
  const f = await buildFixture(tp)
  const doc = (await tp.call('GET', '/v1/openapi.json')).json() as {
    paths: Record<string, Record<string, { 'x-palisade-auth': string }>>
  }
  const routes = Object.entries(doc.paths).flatMap(([p, ops]) =>
    Object.entries(ops).map(([m, op]) => ({
      key: `${m} ${p}`,
      method: m.toUpperCase(),
      path: p,
      auth: op['x-palisade-auth'],
    })),
  )
  const unmapped = routes.filter((r) => !ROUTES[r.key]).map((r) => r.key)
  assert.deepEqual(unmapped, [], 'routes without an authorization rule in the matrix')
  const stale = Object.keys(ROUTES).filter((k) => !routes.some((r) => r.key === k))
  assert.deepEqual(stale, [], 'matrix entries for routes that no longer exist')
  routes.sort((a, b) => LAST.indexOf(a.key) - LAST.indexOf(b.key))

  const failures: string[] = []
  const gaps = new Set<string>()
  let checked = 0
  for (const r of routes) {
    const entry = ROUTES[r.key] as Entry
    if (entry.rule === 'public') {
      if (r.auth !== 'public') failures.push(`${r.key}: mapped public but the document says ${r.auth}`)
      continue
    }
    if (r.auth !== 'required') failures.push(`${r.key}: needs a credential but the document says ${r.auth}`)
    if (entry.missing) gaps.add(`${r.key} (${entry.missing})`)
    const send = async (token: string | undefined, url: string, body: unknown) =>
      tp.call(r.method as 'GET', url, {
        ...(token === undefined ? {} : { token }),
        ...(body === undefined ? {} : { body }),
      })

    if (entry.rule === 'signed') {
      for (const token of [undefined, ...ROLE_ORDER.map((role) => f.actors[role].token)]) {
        const res = await send(token, r.path, entry.body?.(f, f.owner))
        checked++
        if (res.statusCode !== 401) failures.push(`${r.key} without a signature → ${res.statusCode}`)
      }
      continue
    }
    // No credential → 401.
    const anon = await send(undefined, fill(r.path, f.own, entry, 'staging'), entry.body?.(f, f.owner))
    checked++
    if (anon.statusCode !== 401) failures.push(`${r.key} without a credential → ${anon.statusCode}`)

    for (const criticality of entry.env ? ['staging', 'production'] : ['staging']) {
      for (const role of ROLE_ORDER) {
        const actor = f.actors[role]
        // Own workspace.
        const extra = entry.fresh ? await entry.fresh(f, actor, criticality) : {}
        const ids = {
          ...f.own,
          ...(entry.rule === 'self'
            ? { token: extra['id'] ?? f.own['token'], session: extra['id'] ?? '', sshkey: extra['id'] ?? '' }
            : {}),
          ...extra,
        }
        const as = { ...actor, ...extra }
        const res = await send(
          extra['token'] ?? actor.token,
          fill(r.path, ids, entry, criticality),
          entry.body?.(f, as),
        )
        checked++
        const want = entry.missing ? 'missing' : expected(entry, role, criticality)
        const got = res.statusCode
        const label = `${r.key} [${criticality}] as ${role}`
        if (want === 'allow' && (got === 401 || got === 403 || got === 404))
          failures.push(`${label}: allowed by RULES but got ${got} ${res.body.slice(0, 120)}`)
        if (want === 'deny' && got !== 403)
          failures.push(`${label}: denied by RULES but got ${got} ${res.body.slice(0, 120)}`)
        if (want === 'missing' && got !== 404)
          failures.push(`${label}: expected 404 for a missing object, got ${got}`)
        if (entry.after && got < 300) await entry.after(f, actor)

        // Foreign workspace (or another user's object): invisible → 404.
        const hasForeign =
          entry.rule !== 'user' &&
          (entry.rule !== 'self' || (entry.id !== undefined && entry.id !== 'missing'))
        if (!hasForeign) continue
        const foreignIds = { ...f.foreign }
        const fres = await send(
          actor.token,
          fill(r.path, foreignIds, entry, criticality),
          entry.body?.(f, actor),
        )
        checked++
        if (fres.statusCode !== 404)
          failures.push(`${label} on a foreign object → ${fres.statusCode} ${fres.body.slice(0, 120)}`)
      }
    }
  }
  t.diagnostic(
    `${checked} requests over ${routes.length} routes; routes without a fixture object (404 for all): ${[...gaps].join('; ') || 'none'}`,
  )
  assert.deepEqual(failures, [])
})

/** The public URL a signed request's @target-uri names (the default: the API's address). */
const PUBLIC = 'http://127.0.0.1:8080'

interface TokenKey {
  id: string
  token: string
  signingKey?: string
}

test('every authentication path on every route: API token bearer, signed-only token unsigned (401) and signed, Basic on git', async (t) => {
  const tp = await startPlatform(t, 'sqlite')
  const f = await buildFixture(tp)
  const mint = async (body: Record<string, unknown>): Promise<TokenKey> =>
    (await created(tp, f.owner.token, 'POST', '/v1/me/tokens', body)) as unknown as TokenKey
  const plain = await mint({ name: 'plain', scopes: ['admin'] })
  const signedOnly = await mint({ name: 'signed', scopes: ['admin'], signed: true })
  const doc = (await tp.call('GET', '/v1/openapi.json')).json() as {
    paths: Record<string, Record<string, { 'x-palisade-auth': string }>>
  }
  const failures: string[] = []
  let checked = 0
  const code = (body: string): string | undefined => {
    try {
      return (JSON.parse(body) as { error?: { code?: string } }).error?.code
    } catch {
      return undefined
    }
  }
  for (const [p, ops] of Object.entries(doc.paths)) {
    for (const [m, op] of Object.entries(ops)) {
      const key = `${m} ${p}`
      const entry = ROUTES[key]
      if (!entry || op['x-palisade-auth'] !== 'required') continue
      const method = m.toUpperCase() as 'GET'
      // Destructive routes act on a fresh object (or, without one, a missing id: 404 proves the credential passed).
      const extra = entry.fresh && entry.rule !== 'self' ? await entry.fresh(f, f.owner, 'staging') : {}
      const ids =
        m === 'delete' && !entry.fresh
          ? { ...f.own, ws: 'x_doesnotexist', id: 'x_doesnotexist' }
          : { ...f.own, ...extra }
      const url = fill(p, ids, entry, 'staging')
      const bodyValue = entry.body?.(f, f.owner)
      const body = bodyValue === undefined ? undefined : JSON.stringify(bodyValue)
      const send = (headers: Record<string, string>) =>
        tp.platform.app.inject({
          method,
          url,
          headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(body === undefined ? {} : { payload: body }),
        })
      const label = `${key} (${url})`

      // A signed-only token without its signature: refused, with the code that says why.
      const unsigned = await send({ authorization: `Bearer ${signedOnly.token}` })
      checked++
      if (unsigned.statusCode !== 401 || code(unsigned.body) !== 'signature_required')
        failures.push(
          `${label} signed-only token unsigned → ${unsigned.statusCode} ${unsigned.body.slice(0, 100)}`,
        )

      // The same token signed, and a plain API token: the credential is accepted (the decision is the matrix's).
      const signature = signRequest({
        method,
        url: PUBLIC + url,
        keyId: signedOnly.id,
        key: Buffer.from(signedOnly.signingKey as string, 'hex'),
        created: Math.floor(Date.now() / 1000),
        nonce: randomBytes(12).toString('base64url'),
        ...(body === undefined ? {} : { body }),
      })
      const signedRes = await send({ ...signature, authorization: `Bearer ${signedOnly.token}` })
      checked++
      if (signedRes.statusCode === 401)
        failures.push(`${label} signed request → 401 ${signedRes.body.slice(0, 100)}`)
      if (entry.rule === 'signed') continue
      const extra2 = entry.fresh && entry.rule !== 'self' ? await entry.fresh(f, f.owner, 'staging') : {}
      const url2 = Object.keys(extra2).length > 0 ? fill(p, { ...f.own, ...extra2 }, entry, 'staging') : url
      const plainRes = await tp.platform.app.inject({
        method,
        url: url2,
        headers: {
          authorization: `Bearer ${plain.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { payload: body }),
      })
      checked++
      if (plainRes.statusCode === 401)
        failures.push(`${key} (${url2}) API token bearer → 401 ${plainRes.body.slice(0, 100)}`)
    }
  }

  // git over HTTP authenticates with Basic (an API token as the password) and cannot carry a signature.
  const basic = (token: string): string => `Basic ${Buffer.from(`x:${token}`).toString('base64')}`
  const repo = '/git/acme/shop.git'
  const gitCalls = [
    { method: 'GET' as const, url: `${repo}/info/refs?service=git-upload-pack` },
    { method: 'GET' as const, url: `${repo}/info/refs?service=git-receive-pack` },
    { method: 'POST' as const, url: `${repo}/git-upload-pack` },
    { method: 'POST' as const, url: `${repo}/git-receive-pack` },
  ]
  for (const c of gitCalls) {
    const as = (authorization?: string) =>
      tp.platform.app.inject({
        method: c.method,
        url: c.url,
        headers: {
          ...(authorization ? { authorization } : {}),
          ...(c.method === 'POST'
            ? { 'content-type': `application/x-${c.url.split('/').pop()}-request` }
            : {}),
        },
        ...(c.method === 'POST' ? { payload: '0000' } : {}),
      })
    const none = await as()
    const bearer = await as(`Bearer ${plain.token}`)
    const signedBasic = await as(basic(signedOnly.token))
    const session = await as(basic(f.owner.token))
    checked += 4
    if (none.statusCode !== 401)
      failures.push(`${c.method} ${c.url} without a credential → ${none.statusCode}`)
    if (bearer.statusCode !== 401)
      failures.push(`${c.method} ${c.url} with a bearer (not Basic) → ${bearer.statusCode}`)
    if (session.statusCode !== 401)
      failures.push(`${c.method} ${c.url} with a session as password → ${session.statusCode}`)
    if (signedBasic.statusCode !== 401 || code(signedBasic.body) !== 'signature_required')
      failures.push(
        `${c.method} ${c.url} Basic with a signed-only token → ${signedBasic.statusCode} ${signedBasic.body.slice(0, 100)}`,
      )
  }
  const fetchRefs = await tp.platform.app.inject({
    method: 'GET',
    url: `${repo}/info/refs?service=git-upload-pack`,
    headers: { authorization: basic(plain.token) },
  })
  checked++
  if (fetchRefs.statusCode !== 200)
    failures.push(
      `git fetch with a plain token (Basic) → ${fetchRefs.statusCode} ${fetchRefs.body.slice(0, 100)}`,
    )
  t.diagnostic(`${checked} requests`)
  assert.deepEqual(failures, [])
})
