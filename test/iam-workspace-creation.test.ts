import assert from 'node:assert/strict'
import { test } from 'node:test'
import { addMember } from './support/members.js'
import { setUpOwner, startPlatform } from './support/platform.js'

/**
 * Issue 17, finding 4: a leaked read- or deploy-scoped token must not mint tenants, one account must not squat
 * the global namespace of workspace names, and a refused name must not tell a taken name (another tenant's)
 * from any other unavailable one.
 */
/** The documented default (docs/identity.md, docs/rationale.md). */
const MAX_OWNED_WORKSPACES = 10

test('workspace creation needs a session or an admin-scoped token, is limited per user, and a taken name is just unavailable', async (t) => {
  const tp = await startPlatform(t, 'sqlite')
  const { token, workspaceId } = await setUpOwner(tp)
  const mint = async (scopes: string[]): Promise<string> => {
    const res = await tp.call('POST', '/v1/me/tokens', {
      token,
      body: { name: `t-${scopes.join('-')}`, scopes },
    })
    assert.equal(res.statusCode, 201, res.body)
    return (res.json() as { token: string }).token
  }
  const create = (as: string, name: string) =>
    tp.call('POST', '/v1/workspaces', { token: as, body: { name } })

  for (const scopes of [['read'], ['deploy'], ['write'], ['read', 'write', 'deploy']]) {
    const res = await create(await mint(scopes), `by-${scopes.join('-')}`)
    assert.equal(res.statusCode, 403, `${scopes.join(',')}: ${res.body}`)
  }
  assert.equal((await create(await mint(['admin']), 'by-admin-token')).statusCode, 201)
  assert.equal((await create(token, 'by-session')).statusCode, 201)

  // A name taken by another tenant, by one's own workspace, or reserved: the same refusal.
  const other = await addMember(tp, token, workspaceId, 'other@example.com', 'viewer')
  assert.equal((await create(other.token, 'globex')).statusCode, 201)
  const answers = []
  for (const [as, name] of [
    [token, 'globex'],
    [token, 'acme'],
    [token, 'admin'],
  ] as const) {
    const res = await create(as, name)
    assert.equal(res.statusCode, 409, `${name}: ${res.body}`)
    const { code, message } = (res.json() as { error: { code: string; message: string } }).error
    answers.push({ code, message: message.replace(name, 'NAME') })
  }
  assert.equal(answers[0]?.code, 'name_unavailable')
  assert.deepEqual(answers[1], answers[0], 'own and foreign names answer alike')
  assert.deepEqual(answers[2], answers[0], 'taken and reserved names answer alike')
  assert.doesNotMatch(JSON.stringify(answers), /exists|tenant|taken/i)
  // Renaming into a taken name is the same refusal.
  const rename = await tp.call('PATCH', `/v1/workspaces/${workspaceId}`, { token, body: { name: 'globex' } })
  assert.equal(rename.statusCode, 409)
  assert.equal((rename.json() as { error: { code: string } }).error.code, 'name_unavailable')

  // Per-user limit: the owner already owns acme, by-admin-token and by-session.
  for (let i = 3; i < MAX_OWNED_WORKSPACES; i++)
    assert.equal((await create(token, `own-${i}`)).statusCode, 201)
  const over = await create(token, 'one-too-many')
  assert.equal(over.statusCode, 409, over.body)
  assert.equal((over.json() as { error: { code: string } }).error.code, 'limit_reached')
  // Another user is not affected by this one's limit.
  assert.equal((await create(other.token, 'globex-two')).statusCode, 201)
})
