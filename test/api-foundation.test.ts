import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { STORE_KINDS, OWNER, setUpOwner, signIn, startPlatform } from './support/platform.js'

for (const kind of STORE_KINDS) {
  describe(`API foundation on ${kind}`, () => {
    test('setup creates the first owner once and burns the token', async (t) => {
      const tp = await startPlatform(t, kind)
      assert.match(tp.setupToken, /^pst_/)
      const bad = await tp.call('POST', '/v1/setup', {
        body: { token: 'pst_wrong', ...OWNER, workspace: 'acme' },
      })
      assert.equal(bad.statusCode, 401)
      const res = await tp.call('POST', '/v1/setup', {
        body: { token: tp.setupToken, ...OWNER, workspace: 'acme' },
      })
      assert.equal(res.statusCode, 201)
      const body = res.json() as { user: { email: string }; workspace: { name: string } }
      assert.equal(body.user.email, OWNER.email)
      assert.equal(body.workspace.name, 'acme')
      const events = await tp.platform.store.db
        .selectFrom('audit_events')
        .selectAll()
        .where('request_id', '=', String(res.headers['x-request-id']))
        .execute()
      assert.deepEqual(
        events.map((e) => [e.action, e.outcome]),
        [['workspace.setup', 'success']],
        'setup writes exactly one audit event',
      )
      const again = await tp.call('POST', '/v1/setup', {
        body: { token: tp.setupToken, ...OWNER, workspace: 'other' },
      })
      assert.equal(again.statusCode, 409)
      assert.equal((again.json() as { error: { code: string } }).error.code, 'setup_complete')
    })

    test('tenancy round trip: workspace, project, two environments, variables', async (t) => {
      const tp = await startPlatform(t, kind)
      const { token } = await setUpOwner(tp)
      const proj = await tp.call('POST', '/v1/workspaces/acme/projects', {
        token,
        body: { name: 'shop', repository: 'https://git.example.com/shop.git' },
      })
      assert.equal(proj.statusCode, 201, proj.body)
      const projectId = (proj.json() as { id: string }).id
      const main = await tp.call('POST', `/v1/projects/${projectId}/environments`, {
        token,
        body: { name: 'main', criticality: 'production' },
      })
      assert.equal(main.statusCode, 201, main.body)
      const mainEnv = main.json() as { id: string; host: string; sizing: { instances: number } }
      assert.equal(mainEnv.host, 'main.shop.acme.localhost')
      assert.equal(mainEnv.sizing.instances, 1)
      const staging = await tp.call('POST', `/v1/projects/${projectId}/environments`, {
        token,
        body: { name: 'staging', branch: 'develop' },
      })
      assert.equal(staging.statusCode, 201)
      const list = await tp.call('GET', `/v1/projects/${projectId}/environments`, { token })
      assert.deepEqual(
        (list.json() as { items: Array<{ name: string }> }).items.map((e) => e.name),
        ['main', 'staging'],
      )

      const secret = await tp.call('PUT', `/v1/environments/${mainEnv.id}/variables/API_KEY`, {
        token,
        body: { value: 's3cr3t-value', secret: true },
      })
      assert.equal(secret.statusCode, 201)
      assert.notEqual((secret.json() as { value: string }).value, 's3cr3t-value')
      const plain = await tp.call('PUT', `/v1/environments/${mainEnv.id}/variables`, {
        token,
        body: { variables: [{ name: 'LOG_LEVEL', value: 'debug' }] },
      })
      assert.equal(plain.statusCode, 200)
      const vars = (await tp.call('GET', `/v1/environments/${mainEnv.id}/variables`, { token })).json() as {
        items: Array<{ name: string; value: string; secret: boolean }>
      }
      assert.deepEqual(
        vars.items.map((v) => [v.name, v.secret]),
        [
          ['API_KEY', true],
          ['LOG_LEVEL', false],
        ],
      )
      assert.equal(vars.items[1]?.value, 'debug')
      assert.ok(!JSON.stringify(vars).includes('s3cr3t-value'))
      // Encrypted at rest: the stored value is not the plain text.
      const row = await tp.platform.store.db
        .selectFrom('variables')
        .select('value')
        .where('name', '=', 'API_KEY')
        .executeTakeFirstOrThrow()
      assert.ok(!row.value.includes('s3cr3t'))
      assert.deepEqual(await tp.platform.tenancy.variables.resolve(mainEnv.id), {
        API_KEY: 's3cr3t-value',
        LOG_LEVEL: 'debug',
      })
    })

    test('deleting a project with environments needs force', async (t) => {
      const tp = await startPlatform(t, kind)
      const { token } = await setUpOwner(tp)
      const projectId = (
        (await tp.call('POST', '/v1/workspaces/acme/projects', { token, body: { name: 'shop' } })).json() as {
          id: string
        }
      ).id
      await tp.call('POST', `/v1/projects/${projectId}/environments`, { token, body: { name: 'main' } })
      const refused = await tp.call('DELETE', `/v1/projects/${projectId}`, { token })
      assert.equal(refused.statusCode, 409)
      const forced = await tp.call('DELETE', `/v1/projects/${projectId}?force=true`, { token })
      assert.equal(forced.statusCode, 204)
      assert.equal((await tp.call('GET', `/v1/projects/${projectId}`, { token })).statusCode, 404)
    })

    test('sign-out revokes the session', async (t) => {
      const tp = await startPlatform(t, kind)
      const { token } = await setUpOwner(tp)
      assert.equal((await tp.call('GET', '/v1/me', { token })).statusCode, 200)
      assert.equal((await tp.call('DELETE', '/v1/sessions/current', { token })).statusCode, 204)
      assert.equal((await tp.call('GET', '/v1/me', { token })).statusCode, 401)
      const wrong = await tp.call('POST', '/v1/sessions', {
        body: { email: OWNER.email, password: 'not the password at all' },
      })
      assert.equal(wrong.statusCode, 401)
      await signIn(tp, OWNER.email, OWNER.password)
    })
  })
}
