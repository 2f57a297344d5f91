import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import type { Deployment } from '../src/deploy/index.js'
import { createRepo, nodeApp } from '../src/deploy/testing.js'
import { gitAsync, startDeployPlatform, type DeployFixture } from './deploy-helpers.js'
import { MEMBER_PASSWORD } from './support/members.js'
import { runCli } from './support/processes.js'

/**
 * Issue 17, finding 1: a developer must not take over production. Deploying or rolling back a production
 * environment (API, CLI, git push) and changing what production runs (the project's repository, its name,
 * which is part of production's host, and the anonymization rules of a production → staging copy) need the
 * production-level role (admin); on a project without production a developer keeps those rights.
 */

/** Invites `email` as `role` in acme, accepts and signs in (the deploy platform's outbox is under data/). */
async function member(f: DeployFixture, email: string, role: string): Promise<string> {
  const inv = await f.call('POST', `/v1/workspaces/${f.workspaceId}/members`, { email, role })
  assert.equal(inv.statusCode, 201, inv.body)
  const outbox = path.join(f.root, '..', 'data', 'outbox')
  const mail = readdirSync(outbox)
    .map((n) =>
      readFileSync(path.join(outbox, n), 'utf8')
        .replace(/=\r?\n/g, '')
        .replace(/=3D/g, '='),
    )
    .find((m) => m.includes(`To: ${email}`))
  const invitation = /\/invitations\/(inv_[A-Za-z0-9_-]+)/.exec(mail ?? '')?.[1]
  assert.ok(invitation, `an invitation for ${email}`)
  const accepted = await f.call('POST', `/v1/invitations/${invitation}/accept`, { password: MEMBER_PASSWORD })
  assert.equal(accepted.statusCode, 201, accepted.body)
  const session = await f.call('POST', '/v1/sessions', { email, password: MEMBER_PASSWORD })
  assert.equal(session.statusCode, 201, session.body)
  return (session.json() as { token: string }).token
}

const deployments = async (f: DeployFixture, envId: string): Promise<Deployment[]> =>
  ((await f.call('GET', `/v1/environments/${envId}/deployments`)).json() as { items: Deployment[] }).items

test('a developer cannot deploy, roll back or repoint production (API, CLI, git push); admins can', async (t) => {
  const p = await startDeployPlatform(t)
  const api = await p.platform.app.listen({ host: '127.0.0.1', port: 0 })
  const f = await p.addApp()
  const prod = f.envId
  assert.equal(
    (await f.call('PATCH', `/v1/environments/${prod}`, { criticality: 'production' })).statusCode,
    200,
  )
  const staging = (
    (
      await f.call('POST', `/v1/projects/${f.projectId}/environments`, {
        name: 'staging',
        criticality: 'staging',
        branch: 'main',
        healthCheckPath: '/health',
      })
    ).json() as { id: string }
  ).id
  const dev = await member(f, 'dev@example.com', 'developer')
  const admin = await member(f, 'admin@example.com', 'admin')
  const asDev = (method: 'POST' | 'PATCH' | 'PUT', url: string, body: unknown) =>
    f.call(method, url, body, dev)

  // API: deploy and rollback of production are refused before anything is queued; staging is fine.
  const deploy = await asDev('POST', `/v1/environments/${prod}/deployments`, {})
  assert.equal(deploy.statusCode, 403, deploy.body)
  assert.equal((deploy.json() as { error: { code: string } }).error.code, 'forbidden')
  assert.equal((await asDev('POST', `/v1/environments/${prod}/rollback`, {})).statusCode, 403)
  assert.equal((await deployments(f, prod)).length, 0, 'nothing was queued for production')

  // Repository, name (production's host) and anonymization rules of a project with production.
  for (const body of [{ repository: '/tmp/elsewhere' }, { name: 'takeover' }]) {
    const res = await asDev('PATCH', `/v1/projects/${f.projectId}`, body)
    assert.equal(res.statusCode, 403, `${JSON.stringify(body)}: ${res.body}`)
  }
  const rules = { rules: [{ service: 'mariadb', table: 'users', column: 'email', method: 'keep' }] }
  assert.equal((await asDev('PUT', `/v1/projects/${f.projectId}/anonymization`, rules)).statusCode, 403)
  // What production does not run stays a developer's to change.
  assert.equal((await asDev('PATCH', `/v1/projects/${f.projectId}`, { description: 'shop' })).statusCode, 200)
  const project = (await f.call('GET', `/v1/projects/${f.projectId}`)).json() as {
    name: string
    repository: string
  }
  assert.equal(project.repository, f.repo.dir, 'the repository is unchanged')
  // Admins (the production level) may.
  assert.equal(
    (await f.call('PUT', `/v1/projects/${f.projectId}/anonymization`, rules, admin)).statusCode,
    200,
  )

  // A project without production: a developer repoints and renames it.
  const lab = await p.addApp()
  for (const body of [{ repository: lab.repo.dir }, { name: 'lab-renamed' }]) {
    const res = await lab.call('PATCH', `/v1/projects/${lab.projectId}`, body, dev)
    assert.equal(res.statusCode, 200, `${JSON.stringify(body)}: ${res.body}`)
  }

  // CLI: the same refusal, exit 1 with the status.
  const cli = await runCli(['deploy', `${project.name}/main`], { PALISADE_API_URL: api, PALISADE_TOKEN: dev })
  assert.equal(cli.code, 1, cli.stdout + cli.stderr)
  assert.match(cli.stderr, /403/)
  assert.equal((await deployments(f, prod)).length, 0)

  // git push: the developer's push deploys staging only; production is listed as skipped.
  const tokenRes = await f.call(
    'POST',
    '/v1/me/tokens',
    { name: 'ci', scopes: ['deploy'], expiresInDays: 1 },
    dev,
  )
  assert.equal(tokenRes.statusCode, 201, tokenRes.body)
  const pushToken = (tokenRes.json() as { token: string }).token
  const work = createRepo(path.join(p.root, 'dev-pusher'))
  work.commit(nodeApp('from the developer'))
  const url = `${api.replace('://', `://x:${pushToken}@`)}/git/acme/${project.name}.git`
  const pushed = await gitAsync(work.dir, ['push', url, 'HEAD:refs/heads/main'])
  assert.equal(pushed.code, 0, pushed.output)
  assert.match(pushed.output, /remote: palisade: environment main \(production\) skipped/)
  assert.match(pushed.output, /remote: palisade: deployment 1 of environment/)
  assert.equal((await deployments(f, prod)).length, 0, 'production was not deployed by the push')
  const stagingRuns = await deployments(f, staging)
  assert.equal(stagingRuns.length, 1, 'staging was deployed by the push')
  assert.equal(stagingRuns[0]?.status, 'succeeded', pushed.output)

  // An admin deploys production (the production level).
  const byAdmin = await f.call('POST', `/v1/environments/${prod}/deployments`, {}, admin)
  assert.equal(byAdmin.statusCode, 201, byAdmin.body)
  await f.waitFor((byAdmin.json() as { id: string }).id)
})
