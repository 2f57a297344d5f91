import assert from 'node:assert/strict'
import path from 'node:path'
import { test } from 'node:test'
import type { Deployment } from '../src/deploy/index.js'
import { createRepo, git, nodeApp } from '../src/deploy/testing.js'
import { gitAsync, startDeployPlatform } from './deploy-helpers.js'

const push = (cwd: string, url: string): Promise<{ code: number; output: string }> =>
  gitAsync(cwd, ['push', url, 'HEAD:refs/heads/main'])

test('git push over smart HTTP deploys the tracking environment and streams its log to the pusher', async (t) => {
  const p = await startDeployPlatform(t)
  const api = await p.platform.app.listen({ host: '127.0.0.1', port: 0 })
  const f = await p.addApp()
  const tokenRes = await f.call('POST', '/v1/me/tokens', { name: 'ci', scopes: ['deploy'], expiresInDays: 1 })
  assert.equal(tokenRes.statusCode, 201, tokenRes.body)
  const deployToken = (tokenRes.json() as { token: string }).token
  const readRes = await f.call('POST', '/v1/me/tokens', { name: 'ro', scopes: ['read'], expiresInDays: 1 })
  const readToken = (readRes.json() as { token: string }).token

  const work = createRepo(path.join(p.root, 'pusher'))
  const commit = work.commit(nodeApp('pushed'))
  const project = (await f.call('GET', `/v1/projects/${f.projectId}`)).json() as { name: string }
  const url = (token: string): string =>
    `${api.replace('://', `://x:${token}@`)}/git/acme/${project.name}.git`

  // No credentials, a read-only token, a wrong token, another tenant's path: all refused, nothing deployed.
  assert.notEqual((await push(work.dir, `${api}/git/acme/${project.name}.git`)).code, 0)
  const ro = await push(work.dir, url(readToken))
  assert.notEqual(ro.code, 0)
  assert.notEqual((await push(work.dir, url('pal_wrong'))).code, 0)
  assert.notEqual(
    (await push(work.dir, `${api.replace('://', `://x:${deployToken}@`)}/git/other/${project.name}.git`))
      .code,
    0,
  )
  assert.equal(
    ((await f.call('GET', `/v1/environments/${f.envId}/deployments`)).json() as { items: unknown[] }).items
      .length,
    0,
  )

  const ok = await push(work.dir, url(deployToken))
  assert.equal(ok.code, 0, ok.output)
  assert.match(ok.output, /remote: palisade: deployment 1 of environment/)
  assert.match(ok.output, /remote: \[palisade\] health check GET \/health passed/)
  assert.match(ok.output, /remote: palisade: deployment 1 succeeded/)
  const d = (
    (await f.call('GET', `/v1/environments/${f.envId}/deployments`)).json() as { items: Deployment[] }
  ).items[0]
  assert.equal(d?.commit, commit)
  assert.equal((await f.get('/')).body, 'pushed hello\n')

  // Fetching back needs only the read scope.
  const clone = path.join(p.root, 'clone')
  const cloned = await gitAsync(p.root, ['clone', '-q', url(readToken), clone])
  assert.equal(cloned.code, 0, cloned.output)
  assert.equal(git(clone, 'rev-parse', 'HEAD'), commit)
})
