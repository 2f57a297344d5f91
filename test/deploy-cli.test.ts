import assert from 'node:assert/strict'
import { test } from 'node:test'
import { runCli } from '../src/cli/main.js'
import { nodeApp } from '../src/deploy/testing.js'
import { startDeployPlatform } from './deploy-helpers.js'

test('palisade deploy, jobs run, logs and rollback drive a real platform and exit non-zero on failure', async (t) => {
  const p = await startDeployPlatform(t)
  const api = await p.platform.app.listen({ host: '127.0.0.1', port: 0 })
  const f = await p.addApp()
  const saved = { url: process.env['PALISADE_API_URL'], token: process.env['PALISADE_TOKEN'] }
  process.env['PALISADE_API_URL'] = api
  process.env['PALISADE_TOKEN'] = f.token
  t.after(() => {
    for (const [k, v] of [
      ['PALISADE_API_URL', saved.url],
      ['PALISADE_TOKEN', saved.token],
    ] as const) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  })
  const project = (await f.call('GET', `/v1/projects/${f.projectId}`)).json() as { name: string }
  const env = `${project.name}/main`
  f.repo.commit(nodeApp('v1'))
  assert.equal(await runCli(['deploy', env]), 0)
  f.repo.commit(nodeApp('v2', { failHealth: true }))
  assert.equal(await runCli(['deploy', env]), 1)
  assert.equal((await f.get('/')).body, 'v1 hello\n')
  assert.equal(await runCli(['jobs', 'run', env, 'command', 'echo', 'hi']), 0)
  assert.equal(await runCli(['jobs', 'run', env, 'command', 'exit 2']), 1)
  assert.equal(await runCli(['logs', env]), 0)
  assert.equal(await runCli(['rollback', env]), 1, 'no earlier release')
  assert.equal(await runCli(['deploy', env, '--ref=--upload-pack=x']), 1)
})
