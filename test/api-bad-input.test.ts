import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { STORE_KINDS, setUpOwner, signIn, startPlatform, type TestPlatform } from './support/platform.js'

interface ErrorAnswer {
  error: { code: string; message: string; requestId: string; details?: Array<{ field: string }> }
}

function assertError(
  res: { statusCode: number; headers: Record<string, unknown>; json(): unknown },
  status: number,
  code: string,
): ErrorAnswer {
  assert.equal(res.statusCode, status)
  const body = res.json() as ErrorAnswer
  assert.equal(body.error.code, code)
  assert.match(body.error.requestId, /^req_/)
  assert.equal(res.headers['x-request-id'], body.error.requestId)
  return body
}

async function counts(tp: TestPlatform): Promise<{ projects: number; events: number }> {
  const db = tp.platform.store.db
  const p = await db
    .selectFrom('projects')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow()
  const e = await db
    .selectFrom('audit_events')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow()
  return { projects: Number(p.n), events: Number(e.n) }
}

for (const kind of STORE_KINDS) {
  describe(`bad input on ${kind}`, () => {
    test('every bad request gets the documented error, a request id, and writes nothing', async (t) => {
      const tp = await startPlatform(t, kind)
      const { token } = await setUpOwner(tp)
      const before = await counts(tp)
      const url = '/v1/workspaces/acme/projects'

      assertError(await tp.call('GET', '/v1/nope', { token }), 404, 'not_found')
      const wrongMethod = await tp.call('PUT', '/v1/workspaces', { token, body: {} })
      assertError(wrongMethod, 405, 'method_not_allowed')
      assert.match(String(wrongMethod.headers['allow']), /GET/)
      assertError(
        await tp.call('POST', url, {
          token,
          body: '{"name": ',
          headers: { 'content-type': 'application/json' },
        }),
        400,
        'invalid_json',
      )
      assertError(
        await tp.call('POST', url, {
          token,
          body: 'name=shop',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        }),
        415,
        'unsupported_media_type',
      )
      assertError(
        await tp.call('POST', url, { token, body: 'name', headers: { 'content-type': 'text/plain' } }),
        415,
        'unsupported_media_type',
      )
      const big = JSON.stringify({ name: 'shop', description: 'x'.repeat(1024 * 1024 + 10) })
      assertError(
        await tp.call('POST', url, { token, body: big, headers: { 'content-type': 'application/json' } }),
        413,
        'body_too_large',
      )
      const unknown = assertError(
        await tp.call('POST', url, { token, body: { name: 'shop', colour: 'red' } }),
        400,
        'invalid_request',
      )
      assert.equal(unknown.error.details?.[0]?.field, 'colour')
      const badName = assertError(
        await tp.call('POST', url, { token, body: { name: 'Shop!' } }),
        400,
        'invalid_request',
      )
      assert.equal(badName.error.details?.[0]?.field, 'name')
      assertError(await tp.call('POST', url, { token, body: { name: 123 } }), 400, 'invalid_request')
      assertError(
        await tp.call('POST', url, {
          token,
          body: { name: 'shop', repository: 'ext::sh -c touch% /tmp/pwned' },
        }),
        400,
        'invalid_request',
      )
      assertError(
        await tp.call('POST', url, {
          token,
          body: { name: 'shop', repository: '--upload-pack=touch /tmp/x' },
        }),
        400,
        'invalid_request',
      )
      assertError(
        await tp.call('POST', url, {
          token,
          body: { name: 'shop', repository: 'https://user:pw@example.com/x.git' },
        }),
        400,
        'invalid_request',
      )
      assertError(await tp.call('GET', `${url}?limit=100000`, { token }), 400, 'invalid_request')
      assertError(await tp.call('GET', `${url}?cursor=garbage`, { token }), 400, 'invalid_request')
      assertError(await tp.call('POST', url, { body: { name: 'shop' } }), 401, 'unauthenticated')
      assertError(
        await tp.call('POST', url, { token: 'pss_forged', body: { name: 'shop' } }),
        401,
        'unauthenticated',
      )
      assert.deepEqual(await counts(tp), before)
    })

    test('environment settings are validated field by field', async (t) => {
      const tp = await startPlatform(t, kind)
      const { token } = await setUpOwner(tp)
      const projectId = (
        (await tp.call('POST', '/v1/workspaces/acme/projects', { token, body: { name: 'shop' } })).json() as {
          id: string
        }
      ).id
      const url = `/v1/projects/${projectId}/environments`
      const cases: Array<[unknown, string]> = [
        [{ name: 'main', branch: '--force' }, 'branch'],
        [{ name: 'main', branch: 'a..b' }, 'branch'],
        [{ name: 'main', criticality: 'critical' }, 'criticality'],
        [{ name: 'main', runtime: 'node@20; rm -rf /' }, 'runtime'],
        [{ name: 'main', sizing: { instances: 0 } }, 'sizing.instances'],
        [{ name: 'main', sizing: { memoryMb: 10 } }, 'sizing.memoryMb'],
        [{ name: 'main', persistentDirs: ['../etc'] }, 'persistentDirs'],
        [{ name: 'main', persistentDirs: ['/abs'] }, 'persistentDirs'],
        [
          {
            name: 'main',
            maintenanceWindow: { day: 'mon', start: '25:00', durationMinutes: 60, timezone: 'UTC' },
          },
          'maintenanceWindow.start',
        ],
        [
          {
            name: 'main',
            maintenanceWindow: { day: 'mon', start: '02:00', durationMinutes: 60, timezone: 'Mars/Olympus' },
          },
          'maintenanceWindow.timezone',
        ],
        [{ name: 'main', healthCheckPath: 'health' }, 'healthCheckPath'],
      ]
      for (const [body, field] of cases) {
        const res = assertError(await tp.call('POST', url, { token, body }), 400, 'invalid_request')
        assert.ok(
          res.error.details?.some((d) => d.field.startsWith(field.split('.')[0]!)),
          `${JSON.stringify(body)} → ${JSON.stringify(res.error.details)}`,
        )
      }
      const envs = await tp.platform.store.db.selectFrom('environments').selectAll().execute()
      assert.equal(envs.length, 0)
      const ok = await tp.call('POST', url, {
        token,
        body: {
          name: 'main',
          maintenanceWindow: { day: 'sun', start: '02:30', durationMinutes: 120, timezone: 'Europe/Paris' },
          persistentDirs: ['storage/uploads'],
        },
      })
      assert.equal(ok.statusCode, 201, ok.body)
      const dup = await tp.call('POST', url, { token, body: { name: 'main' } })
      assertError(dup, 409, 'conflict')
      assertError(
        await tp.call('PUT', `/v1/environments/${(ok.json() as { id: string }).id}/variables/PORT`, {
          token,
          body: { value: '1' },
        }),
        400,
        'invalid_request',
      )
    })

    test('another tenant sees 404 for every object of a workspace it is not in', async (t) => {
      const tp = await startPlatform(t, kind)
      const { token } = await setUpOwner(tp)
      const project = (
        await tp.call('POST', '/v1/workspaces/acme/projects', { token, body: { name: 'shop' } })
      ).json() as { id: string }
      const env = (
        await tp.call('POST', `/v1/projects/${project.id}/environments`, { token, body: { name: 'main' } })
      ).json() as { id: string }
      // A second user: created directly in the store with their own workspace (the invitation flow is tested elsewhere).
      const { insertUser } = await import('../src/iam/index.js')
      await tp.platform.store.db
        .transaction()
        .execute((trx) => insertUser(trx, new Date(), 'mallory@example.org', 'another long passphrase 77'))
      const mallory = await signIn(tp, 'mallory@example.org', 'another long passphrase 77')
      assert.equal(
        (await tp.call('POST', '/v1/workspaces', { token: mallory, body: { name: 'evil' } })).statusCode,
        201,
      )
      for (const [method, url] of [
        ['GET', '/v1/workspaces/acme'],
        ['GET', '/v1/workspaces/acme/projects'],
        ['GET', `/v1/projects/${project.id}`],
        ['PATCH', `/v1/projects/${project.id}`],
        ['GET', `/v1/environments/${env.id}`],
        ['DELETE', `/v1/environments/${env.id}`],
        ['GET', `/v1/environments/${env.id}/variables`],
        ['PUT', `/v1/environments/${env.id}/variables/X`],
        ['GET', '/v1/workspaces/acme/audit-events'],
      ] as const) {
        const body =
          method === 'PATCH' ? { description: 'pwned' } : method === 'PUT' ? { value: 'x' } : undefined
        const res = await tp.call(method, url, { token: mallory, ...(body ? { body } : {}) })
        assert.equal(res.statusCode, 404, `${method} ${url}`)
        assert.ok(
          !res.body.includes('shop') && !res.body.includes(project.id),
          'the error leaks nothing of the other tenant',
        )
      }
      const list = (await tp.call('GET', '/v1/workspaces', { token: mallory })).json() as {
        items: Array<{ name: string }>
      }
      assert.deepEqual(
        list.items.map((w) => w.name),
        ['evil'],
      )
    })
  })
}

test('responses carry X-Request-Id and the OpenAPI document describes every route', async (t) => {
  const tp = await startPlatform(t, 'sqlite')
  const health = await tp.call('GET', '/v1/health')
  assert.equal(health.statusCode, 200)
  assert.match(String(health.headers['x-request-id']), /^req_/)
  const doc = (await tp.call('GET', '/v1/openapi.json')).json() as {
    openapi: string
    paths: Record<string, Record<string, { requestBody?: unknown }>>
  }
  assert.equal(doc.openapi, '3.1.0')
  assert.ok(
    doc.paths['/v1/workspaces/{ws}/projects']?.['post']?.requestBody,
    'request schemas are in the document',
  )
  assert.ok(Object.keys(doc.paths).length >= 15)
})
