import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ApiError } from '../src/cli/client.js'
import { describeApiError } from '../src/cli/main.js'
import { setUpOwner, startPlatform } from './support/platform.js'

interface ErrorAnswer {
  error: { code: string; message: string; details?: Array<{ field: string; message: string }> }
}

test('validation errors are sentences a user can act on, never raw schema text', async (t) => {
  const tp = await startPlatform(t, 'sqlite')
  const { token } = await setUpOwner(tp)
  const bad = await tp.call('POST', '/v1/workspaces/acme/projects', { token, body: { name: 'Bad_Name' } })
  assert.equal(bad.statusCode, 400)
  const e = (bad.json() as ErrorAnswer).error
  assert.equal(
    e.message,
    'name must be 2 to 63 characters: a lowercase letter, then lowercase letters, digits or hyphens (like my-app-2)',
  )
  assert.doesNotMatch(bad.body, /must match pattern|\^\[a-z\]/)

  const project = await tp.call('POST', '/v1/workspaces/acme/projects', {
    token,
    body: { name: 'shop', repository: 'https://git.example.com/shop.git' },
  })
  assert.equal(project.statusCode, 201, project.body)
  const pid = (project.json() as { id: string }).id
  const crit = await tp.call('POST', `/v1/projects/${pid}/environments`, {
    token,
    body: { name: 'main', criticality: 'prod' },
  })
  assert.equal(crit.statusCode, 400)
  const ce = (crit.json() as ErrorAnswer).error
  assert.equal(ce.message, 'criticality must be one of "production", "staging", "development"')
  assert.equal(ce.details?.length, 1, 'one detail for the field, not one per allowed value')
  assert.doesNotMatch(crit.body, /equal to constant|anyOf/)

  const env = await tp.call('POST', `/v1/projects/${pid}/environments`, { token, body: { name: 'main' } })
  const eid = (env.json() as { id: string }).id
  const every = await tp.call('PUT', `/v1/environments/${eid}/backup-schedule`, {
    token,
    body: { enabled: true, everyHours: 0, keep: 7, files: true },
  })
  assert.equal(every.statusCode, 400, every.body)
  assert.equal((every.json() as ErrorAnswer).error.message, 'everyHours must be at least 1')
})

test('a DELETE that says content-type: application/json but sends no body is accepted (what common clients send)', async (t) => {
  const tp = await startPlatform(t, 'sqlite')
  const { token } = await setUpOwner(tp)
  const created = await tp.call('POST', '/v1/me/tokens', {
    token,
    body: { name: 'ci', scopes: ['read'], expiresInDays: 1 },
  })
  assert.equal(created.statusCode, 201, created.body)
  const id = (created.json() as { id: string }).id
  const res = await tp.platform.app.inject({
    method: 'DELETE',
    url: `/v1/me/tokens/${id}`,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  })
  assert.ok(res.statusCode === 204 || res.statusCode === 200, `${res.statusCode} ${res.body}`)
  // A body that is there is still parsed (and refused when it is not JSON).
  const post = await tp.platform.app.inject({
    method: 'POST',
    url: '/v1/me/tokens',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    payload: '',
  })
  assert.equal(post.statusCode, 400)
})

test('CLI errors say what to do next: sign in again after logout or expiry, how long to wait after a 429', () => {
  const unauth = describeApiError(
    new ApiError(401, 'unauthenticated', 'a valid bearer token is required', 'req_1'),
  )
  assert.match(unauth, /sign in with `palisade login` \(or set PALISADE_TOKEN\)/)
  assert.match(unauth, /unauthenticated, HTTP 401, request req_1/)
  const wrong = describeApiError(
    new ApiError(401, 'invalid_credentials', 'wrong e-mail or password', 'req_2'),
  )
  assert.doesNotMatch(wrong, /palisade login/)
  const slow = describeApiError(new ApiError(429, 'throttled', 'too many attempts', 'req_3', [], 42))
  assert.match(slow, /retry in 42 s/)
  const field = describeApiError(
    new ApiError(400, 'invalid_request', 'name must be…', 'req_4', [{ field: 'name', message: 'must be…' }]),
  )
  assert.match(field, /\[name: must be…\]/)
})
