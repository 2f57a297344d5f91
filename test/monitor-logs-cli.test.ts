import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { createRepo, eventually } from '../src/deploy/testing.js'
import { FAST, httpGet } from './deploy-helpers.js'
import { cliEntry, runCli } from './support/processes.js'
import { setUpOwner, startPlatform } from './support/platform.js'

const SECRET = 'tok_' + 'Z'.repeat(28)
const APP = `
const http = require('node:http')
http.createServer((req, res) => {
  console.log('served ' + req.url + ' using ' + process.env.PAYMENT_KEY)
  res.writeHead(req.url === '/missing' ? 404 : 200, { 'content-type': 'text/plain' })
  res.end('ok\\n')
}).listen(Number(process.env.PORT))
`

/**
 * `palisade logs <env> --follow`: lines appear while a request is made (the app's output and the edge's access
 * line), the secret variable in the app's output is masked, and the filters select access lines.
 */
test('palisade logs --follow shows app output and access lines as requests come, secrets masked', async (t) => {
  const tp = await startPlatform(
    t,
    'sqlite',
    (store) => ({
      dataDir: path.join(store.dataDir, 'data'),
      gitLocalRoots: path.join(store.dataDir, 'work'),
      runtimePinning: 'off',
      edgeHttpListen: '127.0.0.1:0',
      edgeHttpsListen: '127.0.0.1:0',
    }),
    { deploy: { isolate: false, options: FAST } },
  )
  const { platform } = tp
  const { token, workspaceId } = await setUpOwner(tp)
  const call = async (method: string, url: string, body?: unknown) => {
    const res = await tp.call(method as 'POST', url, { token, ...(body === undefined ? {} : { body }) })
    return { status: res.statusCode, json: res.json() as Record<string, unknown> }
  }
  const root = path.join(path.dirname(platform.config.dataDir), 'work')
  mkdirSync(root, { recursive: true })
  const repo = createRepo(path.join(root, 'pay'))
  repo.commit({
    'server.js': APP,
    'package.json': JSON.stringify({ name: 'pay', scripts: { start: 'node server.js' } }),
  })
  const project = await call('POST', `/v1/workspaces/${workspaceId}/projects`, {
    name: 'pay',
    repository: repo.dir,
  })
  const env = await call('POST', `/v1/projects/${String(project.json['id'])}/environments`, {
    name: 'main',
    healthCheckPath: '/',
  })
  const envId = env.json['id'] as string
  const host = env.json['host'] as string
  assert.ok(
    (await call('PUT', `/v1/environments/${envId}/variables/PAYMENT_KEY`, { value: SECRET, secret: true }))
      .status < 300,
  )
  const dep = await call('POST', `/v1/environments/${envId}/deployments`, {})
  await eventually(
    async () => {
      const d = (await call('GET', `/v1/deployments/${String(dep.json['id'])}`)).json
      return d['status'] === 'succeeded'
        ? d
        : d['status'] === 'failed'
          ? assert.fail(JSON.stringify(d))
          : undefined
    },
    60_000,
    'deployment',
  )
  const api = await platform.app.listen({ host: '127.0.0.1', port: 0 })
  const { http } = await platform.edge.listen()
  const cliEnv = { PATH: process.env['PATH'] ?? '', PALISADE_API_URL: api, PALISADE_TOKEN: token, HOME: root }

  const child = spawn(process.execPath, [...cliEntry(), 'logs', envId, '--follow', '--lines', '0'], {
    env: cliEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  t.after(() => {
    child.kill('SIGKILL')
  })
  let out = ''
  child.stdout.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr.on('data', (d: Buffer) => (out += d.toString()))
  // The follower is attached once the CLI's request is in: requests are sent until a line comes back.
  await eventually(
    async () => {
      await httpGet(http.port, host, '/orders/42', { accept: 'text/plain' })
      return out.includes('served /orders/42') && /access GET \/orders\/42 200 /.test(out) ? true : undefined
    },
    30_000,
    `followed lines (got: ${out.slice(0, 300)})`,
  )
  assert.ok(!out.includes(SECRET), 'the secret never reaches the terminal')
  assert.match(out, /served \/orders\/42 using ••••••/)

  await httpGet(http.port, host, '/missing', { accept: 'text/plain' })
  const filtered = await runCli(['logs', envId, '--status', '404', '--json'], cliEnv)
  assert.equal(filtered.code, 0, filtered.stderr)
  const lines = filtered.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { source: string; status: number; path: string })
  assert.ok(
    lines.length >= 1 &&
      lines.every((l) => l.source === 'access' && l.status === 404 && l.path === '/missing'),
  )
  const bad = await runCli(['logs', envId, '--since', 'yesterday'], cliEnv)
  assert.notEqual(bad.code, 0)
  assert.match(bad.stderr, /since/)
})
