import assert from 'node:assert/strict'
import path from 'node:path'
import { test } from 'node:test'
import type { Deployment } from '../src/deploy/index.js'
import { createRepo, nodeApp } from '../src/deploy/testing.js'
import { gitAsync, startDeployPlatform } from './deploy-helpers.js'

/**
 * Issue 17, finding 2: a signed-only API token (`signed: true`) must not work unsigned anywhere. git over HTTP
 * authenticates with the token as the Basic password and cannot sign, so a leaked signed-only token must
 * neither clone nor push (a push deploys); the refusal is a 401 that says why.
 */

test('a signed-only token neither clones nor pushes (and so deploys) over git HTTP; a plain token still does', async (t) => {
  const p = await startDeployPlatform(t)
  const api = await p.platform.app.listen({ host: '127.0.0.1', port: 0 })
  const f = await p.addApp()
  const mint = async (signed: boolean): Promise<string> => {
    const res = await f.call('POST', '/v1/me/tokens', { name: `ci-${signed}`, scopes: ['admin'], signed })
    assert.equal(res.statusCode, 201, res.body)
    return (res.json() as { token: string }).token
  }
  const signedOnly = await mint(true)
  const plain = await mint(false)
  const project = (await f.call('GET', `/v1/projects/${f.projectId}`)).json() as { name: string }
  const url = (token: string): string =>
    `${api.replace('://', `://x:${token}@`)}/git/acme/${project.name}.git`

  // The answer itself: 401 with the error format and the reason.
  const refs = await fetch(`${api}/git/acme/${project.name}.git/info/refs?service=git-receive-pack`, {
    headers: { authorization: `Basic ${Buffer.from(`x:${signedOnly}`).toString('base64')}` },
  })
  assert.equal(refs.status, 401)
  const error = ((await refs.json()) as { error: { code: string; message: string; requestId: string } }).error
  assert.equal(error.code, 'signature_required')
  assert.match(error.message, /signed-only/)
  assert.ok(error.requestId)

  const work = createRepo(path.join(p.root, 'pusher'))
  work.commit(nodeApp('signed'))
  const pushed = await gitAsync(work.dir, ['push', url(signedOnly), 'HEAD:refs/heads/main'])
  assert.notEqual(pushed.code, 0, pushed.output)
  const deployments = (
    (await f.call('GET', `/v1/environments/${f.envId}/deployments`)).json() as { items: Deployment[] }
  ).items
  assert.equal(deployments.length, 0, 'nothing was deployed')
  const clone = await gitAsync(p.root, ['clone', '-q', url(signedOnly), path.join(p.root, 'clone-signed')])
  assert.notEqual(clone.code, 0, clone.output)

  // The same with a plain token works (the refusal is about the signature, not the scope).
  const ok = await gitAsync(work.dir, ['push', url(plain), 'HEAD:refs/heads/main'])
  assert.equal(ok.code, 0, ok.output)
  const cloned = await gitAsync(p.root, ['clone', '-q', url(plain), path.join(p.root, 'clone-plain')])
  assert.equal(cloned.code, 0, cloned.output)
})
