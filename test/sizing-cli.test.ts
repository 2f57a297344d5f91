import assert from 'node:assert/strict'
import { test } from 'node:test'
import { runCli } from '../src/cli/main.js'
import { nodeApp } from '../src/deploy/testing.js'
import { startDeployPlatform } from './deploy-helpers.js'

/** Runs the CLI in-process and returns its exit code and what it printed. */
async function cli(args: string[]): Promise<{ code: number; out: string }> {
  let out = ''
  const write = process.stdout.write.bind(process.stdout)
  process.stdout.write = ((chunk: string | Uint8Array): boolean => {
    out += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString()
    return true
  }) as typeof process.stdout.write
  try {
    return { code: await runCli(args), out }
  } finally {
    process.stdout.write = write
  }
}

test('palisade envs update --instances scales without a deploy and envs show lists every instance', async (t) => {
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
  f.repo.commit(nodeApp('v1'))
  assert.equal((await f.deploy()).status, 'succeeded')
  const scaled = await cli([
    'envs',
    'update',
    'main',
    '--project',
    project.name,
    '--instances',
    '2',
    '--cpu',
    '0.5',
  ])
  assert.equal(scaled.code, 0, scaled.out)
  let shown = { code: -1, out: '' }
  for (let i = 0; i < 100; i++) {
    shown = await cli(['envs', 'show', 'main', '--project', project.name])
    if ((shown.out.match(/^ins_\S+\s+running\s/gm) ?? []).length === 2) break
    await new Promise((r) => setTimeout(r, 100))
  }
  assert.equal(shown.code, 0)
  assert.match(
    shown.out,
    /sizing: 2 × 512 MB, 0.5 CPU — limits (NOT enforced on this host|enforced \(cgroup-v[12]\))/,
  )
  assert.match(shown.out, /INSTANCE\s+STATE\s+PID\s+RESTARTS\s+MEMORY\s+CPU\s+LAST OOM/)
  assert.equal((shown.out.match(/^ins_\S+\s+running\s+\d+\s+0\s/gm) ?? []).length, 2, shown.out)
  const json = await cli(['--json', 'envs', 'show', 'main', '--project', project.name])
  const parsed = JSON.parse(json.out) as { status: { instances: unknown[]; sizing: { cpu: number } } }
  assert.equal(parsed.status.instances.length, 2)
  assert.equal(parsed.status.sizing.cpu, 0.5)
})
