import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { PassThrough } from 'node:stream'
import { describe, test } from 'node:test'
import type { InjectOptions } from 'fastify'
import { loadConfig } from '../src/config/index.js'
import { signRequest, totpCode } from '../src/iam/index.js'
import { createPlatform } from '../src/main.js'
import { createLogger } from '../src/shared/log.js'
import { OWNER } from './support/platform.js'
import { STORE_KINDS, createTestStore } from './support/stores.js'

const TABLES = [
  'users',
  'sessions',
  'api_tokens',
  'recovery_codes',
  'invitations',
  'ssh_keys',
  'ip_groups',
  'memberships',
  'audit_events',
  'setup_state',
] as const

/**
 * Threat: credentials leaking through a side channel. Drives every identity flow that handles a
 * secret, with the real pino logger at `trace`, then greps the log output, every API answer given
 * after the secret's creation, and every row of the store for each secret in clear.
 */
for (const kind of STORE_KINDS) {
  describe(`identity secrets on ${kind}`, () => {
    test('passwords, tokens, signing keys, TOTP secrets and recovery codes never reach logs, later answers or the store', async (t) => {
      const store = await createTestStore(kind)
      const logStream = new PassThrough()
      const logChunks: string[] = []
      logStream.on('data', (c: Buffer) => logChunks.push(c.toString('utf8')))
      const config = loadConfig(
        {},
        {
          dataDir: store.dataDir,
          databaseUrl: store.databaseUrl,
          masterKey: 'b'.repeat(64),
          logLevel: 'trace',
        },
      )
      let setupToken = ''
      const platform = await createPlatform(config, {
        logger: createLogger({ level: 'trace', destination: logStream }),
        announce: (l) => (setupToken = l.split(': ').pop() ?? ''),
      })
      t.after(async () => {
        await platform.close()
        await store.drop()
      })
      const later: string[] = []
      const secrets = new Map<string, string>()
      /** Index of the first answer given after the secret was created (its own creating answer shows it once). */
      const since = new Map<string, number>()
      const call = async (
        method: InjectOptions['method'],
        url: string,
        opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
      ) => {
        const headers: Record<string, string> = { ...opts.headers }
        if (opts.token) headers['authorization'] = `Bearer ${opts.token}`
        const res = await platform.app.inject({
          method: method ?? 'GET',
          url,
          headers,
          ...(opts.body === undefined ? {} : { payload: opts.body as string }),
        })
        later.push(res.body)
        return res
      }
      const keep = (name: string, value: string): string => {
        secrets.set(name, value)
        since.set(name, later.length)
        return value
      }

      keep('setup token', setupToken)
      const newPassword = keep('new password', 'a completely different passphrase 77')
      keep('owner password', OWNER.password)
      assert.equal(
        (await call('POST', '/v1/setup', { body: { token: setupToken, ...OWNER, workspace: 'acme' } }))
          .statusCode,
        201,
      )
      await call('POST', '/v1/sessions', {
        body: { email: OWNER.email, password: keep('wrong password', 'a wrong guess of the password') },
      })
      const session = keep(
        'session',
        ((await call('POST', '/v1/sessions', { body: OWNER })).json() as { token: string }).token,
      )

      const tokenRes = (
        await call('POST', '/v1/me/tokens', {
          token: session,
          body: { name: 'ci', scopes: ['admin'], signed: true },
        })
      ).json() as { id: string; token: string; signingKey: string }
      keep('api token', tokenRes.token)
      keep('signing key', tokenRes.signingKey)
      const enrol = (await call('POST', '/v1/me/totp', { token: session })).json() as {
        secret: string
        uri: string
      }
      keep('totp secret', enrol.secret)
      const codes = (
        (
          await call('POST', '/v1/me/totp/confirm', {
            token: session,
            body: { code: totpCode(enrol.secret, new Date()) },
          })
        ).json() as { recoveryCodes: string[] }
      ).recoveryCodes
      codes.forEach((c, i) => keep(`recovery code ${i}`, c))
      const invited = await call('POST', '/v1/workspaces/acme/members', {
        token: session,
        body: { email: 'new@example.com', role: 'viewer' },
      })
      assert.equal(invited.statusCode, 201)
      const outbox = path.join(store.dataDir, 'outbox')
      const mail = readFileSync(path.join(outbox, readdirSync(outbox)[0] as string), 'utf8').replace(
        /=\r?\n/g,
        '',
      )
      const invitation = keep(
        'invitation token',
        /\/invitations\/(inv_[A-Za-z0-9_-]+)/.exec(mail)?.[1] as string,
      )
      const memberPassword = keep('member password', 'the invited member picks this one 31')
      assert.equal(
        (await call('POST', `/v1/invitations/${invitation}/accept`, { body: { password: memberPassword } }))
          .statusCode,
        201,
      )
      assert.equal(
        (await call('POST', '/v1/sessions', { body: { ...OWNER, totp: codes[0] } })).statusCode,
        201,
      )
      const signed = signRequest({
        method: 'GET',
        url: 'http://127.0.0.1:8080/v1/me/tokens',
        keyId: tokenRes.id,
        key: Buffer.from(tokenRes.signingKey, 'hex'),
        created: Math.floor(Date.now() / 1000),
        nonce: randomBytes(9).toString('hex'),
      })
      assert.equal(
        (
          await call('GET', '/v1/me/tokens', {
            headers: { ...signed, authorization: `Bearer ${tokenRes.token}` },
          })
        ).statusCode,
        200,
      )
      assert.equal(
        (
          await call('POST', '/v1/me/password', {
            token: session,
            body: { currentPassword: OWNER.password, newPassword },
          })
        ).statusCode,
        204,
      )
      for (const url of [
        '/v1/me',
        '/v1/me/sessions',
        '/v1/me/tokens',
        '/v1/workspaces/acme/members',
        '/v1/workspaces/acme/audit-events?limit=200',
      ]) {
        assert.equal((await call('GET', url, { token: session })).statusCode, 200, url)
      }

      const rows: string[] = []
      for (const table of TABLES)
        rows.push(JSON.stringify(await platform.store.db.selectFrom(table).selectAll().execute()))
      const dump = { logs: logChunks.join(''), store: rows.join('\n') }
      assert.ok(dump.logs.includes('"msg":"POST /v1/me/password"'), 'the logger captured request logs')
      assert.ok(dump.store.includes('owner@example.com'), 'the store dump holds rows')
      assert.ok(secrets.size >= 18)
      const leaks: string[] = []
      for (const [name, value] of secrets) {
        assert.ok(value && value.length >= 10, `${name} was captured`)
        const forms = [value, value.replace(/-/g, ''), value.toUpperCase()]
        const answers = later.slice(since.get(name)).join('\n')
        for (const [where, text] of Object.entries({ ...dump, answers }))
          if (forms.some((v) => text.includes(v))) leaks.push(`${name} in ${where}`)
      }
      assert.deepEqual(leaks, [])
    })
  })
}
