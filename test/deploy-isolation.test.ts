import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { createLocalDriver, sandboxName, type DeployDriver } from '../src/deploy/index.js'
import { removeSandbox } from '../src/deploy/drivers/local/isolation.js'
import { probe } from '../src/deploy/health-check.js'
import { eventually, nodeApp } from '../src/deploy/testing.js'
import { startDeploy } from './deploy-helpers.js'

const isRoot = process.getuid?.() === 0

const APP = `
const http = require('node:http')
const s = http.createServer((q, r) => r.end('secret-of-b'))
s.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('port ' + process.env.PORT))
`

/** Runs a Node snippet as environment A, in A's sandbox; returns what it printed. */
async function runAs(driver: DeployDriver, envId: string, cwd: string, code: string): Promise<string> {
  let out = ''
  await driver.run({
    environmentId: envId,
    cwd,
    argv: ['node', '-e', code],
    env: {},
    onOutput: (_s, t) => (out += t),
    timeoutMs: 15_000,
    network: 'sandbox',
  })
  return out.trim()
}

const CONNECT = (target: string): string => `
const net = require('node:net')
const c = net.connect(${target})
c.setTimeout(2000, () => { console.log('timeout'); process.exit(0) })
c.on('connect', () => { console.log('connected'); process.exit(0) })
c.on('error', (e) => { console.log(e.code); process.exit(0) })
`

test(
  'as root, environment A can neither connect to B nor read its files, nor reach the host loopback',
  { skip: isRoot ? false : 'needs root (user and network namespaces)' },
  async (t) => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'pal-iso-'))
    const driver = createLocalDriver({ dataDir, isolate: true })
    const a = `env_${Math.random().toString(36).slice(2, 14)}`
    const b = `env_${Math.random().toString(36).slice(2, 14)}`
    const dirOf = (id: string): string => path.join(dataDir, 'envs', id)
    // A service of the control plane on the host's loopback (the API, a database…).
    const hostService: Server = createServer((s) => s.end('host'))
    await new Promise<void>((r) => hostService.listen(0, '127.0.0.1', r))
    const hostPort = (hostService.address() as { port: number }).port
    t.after(async () => {
      await driver.close(2_000)
      hostService.close()
      await removeSandbox(sandboxName(a))
      await removeSandbox(sandboxName(b))
      rmSync(dataDir, { recursive: true, force: true })
    })
    for (const id of [a, b]) await driver.prepareEnvironment(id, dirOf(id))
    const releaseOf = (id: string): string => {
      const dir = path.join(dirOf(id), 'releases', '1')
      mkdirSync(dir, { recursive: true, mode: 0o755 })
      return dir
    }
    writeFileSync(path.join(releaseOf(b), 'server.js'), APP)
    releaseOf(a)
    await driver.files.makeDir(b, 'shared/data')
    writeFileSync(path.join(dirOf(b), 'shared', 'data', 'secret.txt'), 'b-data')

    let out = ''
    const app = await driver.start({
      environmentId: b,
      instanceId: 'ins_isob1',
      cwd: releaseOf(b),
      argv: ['node', 'server.js'],
      env: {},
      onOutput: (_s, x) => (out += x),
    })
    await eventually(() => probe(app.upstream, '/', 'x', 1_000), 15_000, "B's app")
    assert.ok('socketPath' in app.upstream, 'the edge reaches B through a Unix socket')
    const bPort = Number(/port (\d+)/.exec(out)?.[1])
    assert.ok(bPort > 0)

    // B's app port, from A's namespace: nothing there.
    assert.equal(await runAs(driver, a, releaseOf(a), CONNECT(`${bPort}, '127.0.0.1'`)), 'ECONNREFUSED')
    // B's bridge socket, which does reach B's app: not even visible in A's sandbox.
    const socketPath = (app.upstream as { socketPath: string }).socketPath
    assert.match(
      await runAs(driver, a, releaseOf(a), CONNECT(JSON.stringify(socketPath))),
      /^(EACCES|ENOENT)$/,
    )
    // The control plane's loopback services are not reachable from A's namespace either.
    assert.equal(await runAs(driver, a, releaseOf(a), CONNECT(`${hostPort}, '127.0.0.1'`)), 'ECONNREFUSED')
    // B's files.
    const read = `try { console.log(require('node:fs').readFileSync(${JSON.stringify(path.join(dirOf(b), 'shared', 'data', 'secret.txt'))}, 'utf8')) } catch (e) { console.log(e.code) }`
    assert.match(await runAs(driver, a, releaseOf(a), read), /^(EACCES|ENOENT)$/)
    // The platform's own files (database, keys) sit in the 0711 data dir, unreadable.
    writeFileSync(path.join(dataDir, 'palisade.db'), 'db', { mode: 0o644 })
    await driver.prepareEnvironment(a, dirOf(a))
    const readDb = `try { console.log(require('node:fs').readFileSync(${JSON.stringify(path.join(dataDir, 'palisade.db'))}, 'utf8')) } catch (e) { console.log(e.code) }`
    assert.match(await runAs(driver, a, releaseOf(a), readDb), /^(EACCES|ENOENT)$/)
    // Different users.
    const uidA = await runAs(driver, a, releaseOf(a), 'console.log(process.getuid())')
    assert.notEqual(uidA, '0')
    // Sanity: B's own namespace does see its app (the checks above are not vacuous).
    assert.equal(await runAs(driver, b, releaseOf(b), CONNECT(`${bPort}, '127.0.0.1'`)), 'connected')
  },
)

test(
  'as root, a deployed app runs as its environment user behind a Unix socket and serves through the edge',
  { skip: isRoot ? false : 'needs root (user and network namespaces)' },
  async (t) => {
    const f = await startDeploy(t, { isolate: true })
    t.after(() => removeSandbox(sandboxName(f.envId)))
    f.repo.commit(nodeApp('v1'))
    const d = await f.deploy()
    assert.equal(d.status, 'succeeded', d.reason ?? '')
    assert.equal((await f.get('/')).body, 'v1 hello\n')
    const env = JSON.parse((await f.get('/env')).body) as Record<string, string>
    assert.match(env['PORT'] ?? '', /^2\d{4}$/)
    const status = (await f.call('GET', `/v1/environments/${f.envId}/status`)).json() as { isolation: string }
    assert.equal(status.isolation, 'namespaces')
    // A one-off command runs in the sandbox too: no route out of the namespace.
    const job = (
      await f.call('POST', `/v1/environments/${f.envId}/jobs`, {
        type: 'command',
        command: 'id -u; cat /proc/net/route | wc -l',
      })
    ).json() as { id: string }
    const done = await eventually(async () => {
      const j = (await f.call('GET', `/v1/jobs/${job.id}`)).json() as { status: string }
      return j.status === 'succeeded' || j.status === 'failed' ? j : undefined
    })
    assert.equal(done.status, 'succeeded')
    const lines = (await f.call('GET', `/v1/jobs/${job.id}/logs`)).body.split('\n')
    assert.notEqual(lines[1], '0', 'not root')
    assert.equal(lines[2], '1', 'only the header line: no routes')
  },
)
