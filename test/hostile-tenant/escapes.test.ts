/**
 * A hostile tenant — a member with ordinary rights on its own environment, using the API, git and its
 * own code — tries each way out found on 2026-12-07 (issue #16). Every test attacks through the public
 * surface and checks what the platform did.
 */
import assert from 'node:assert/strict'
import { existsSync, lstatSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { nodeApp } from '../../src/deploy/testing.js'
import { startDeployPlatform, type DeployFixture, type DeployPlatform } from '../deploy-helpers.js'
import { printed, ROOT_ONLY, tenantJob } from './support.js'

describe('a hostile tenant cannot leave its environment', { skip: ROOT_ONLY }, () => {
  let p: DeployPlatform
  let f: DeployFixture
  let dataDir: string
  const cleanups: Array<() => Promise<void>> = []
  after(async () => {
    for (const fn of cleanups.reverse()) await fn()
  })

  before(async () => {
    // One platform for the file: each attack deploys into its own environment.
    p = await startDeployPlatform({ after: (fn) => void cleanups.push(fn) }, { isolate: true })
    dataDir = p.platform.config.dataDir
    f = await p.addApp({ persistentDirs: ['uploads'] })
    f.repo.commit(nodeApp('v1'))
    const d = await f.deploy()
    assert.equal(d.status, 'succeeded', d.reason ?? '')
  })

  test('apps and jobs never run as uid 0 or gid 0, and uids are stored, not read back from a command', async () => {
    const job = await tenantJob(f, 'id -u; id -g; id -G')
    assert.equal(job.status, 'succeeded')
    const [uid, gid, groups] = printed(job.output)
    assert.ok(Number(uid) >= 610_000, `uid ${uid}`)
    assert.ok(Number(gid) >= 610_000, `gid ${gid}`)
    assert.equal(groups, gid, 'no supplementary groups')
    const status = (await f.call('GET', `/v1/environments/${f.envId}/status`)).json() as {
      instances?: Array<{ pid: number | null }>
    }
    void status
    const ids = JSON.parse(readFileSync(path.join(dataDir, 'sandboxes', 'identities.json'), 'utf8')) as {
      envs: Record<string, { uid: number }>
    }
    assert.equal(ids.envs[f.envId]?.uid, Number(uid))
  })

  test('a job sees its own processes only, no host account list and none of the platform files', async () => {
    // A file of the platform's, like the master key or the database.
    const canary = path.join(dataDir, 'canary-key')
    writeFileSync(canary, 'TOPSECRET-canary-value', { mode: 0o600 })
    const job = await tenantJob(
      f,
      [
        `ls /proc | grep -c '^[0-9]'`,
        `cat /etc/passwd | wc -l`,
        `cat ${canary} 2>&1 | head -c 60; echo`,
        `ls ${dataDir} 2>&1 | head -c 80; echo`,
        `ls /work /root /home 2>&1 | tr '\\n' ' '; echo`,
      ].join('; '),
    )
    const [procs, passwd, key, data] = printed(job.output)
    assert.ok(Number(procs) <= 4, `${procs} processes visible: ${job.output}`)
    assert.equal(passwd, '2', 'root and the app only')
    assert.match(key ?? '', /No such file/)
    // At most the empty skeleton leading to its own service sockets (mount points), none of the platform's files.
    assert.doesNotMatch(data ?? '', /canary|palisade|master|sandboxes|outbox|backups|logs/)
    assert.doesNotMatch(job.output, /TOPSECRET/)
  })

  test("a job filling its /tmp stops at the sandbox's limit instead of taking the host's memory", async () => {
    const job = await tenantJob(
      f,
      'dd if=/dev/zero of=/tmp/fill bs=1M count=600 2>&1 | tail -n 2; df -m /tmp | tail -n 1',
    )
    // At most the tmpfs's 512 MiB were written: either the tmpfs filled up (512+0 records), or — tmpfs pages are
    // charged to the job's cgroup — its memory limit (the default 512 MB) stopped dd first.
    assert.match(job.output, /^512\+0 records out|^Killed$/m)
    const used = Number(/tmpfs\s+512\s+(\d+)\s+\d+\s+\d+% \/tmp/.exec(job.output)?.[1] ?? NaN)
    assert.ok(used <= 512, job.output)
  })

  test('the release is read-only to its own app, and its files belong to root', async () => {
    const job = await tenantJob(f, 'touch /app/planted 2>&1; ln -s / /app/evil 2>&1; echo done')
    assert.match(job.output, /Read-only file system/)
    const release = path.join(dataDir, 'envs', f.envId, 'releases', '1')
    const st = statSync(path.join(release, 'server.js'))
    assert.equal(st.uid, 0)
    assert.equal(st.mode & 0o022, 0, 'no group or world write')
    assert.equal(existsSync(path.join(release, 'planted')), false)
  })

  test('a build that leaves a process behind to swap its output for links changes nothing once the build ends', async () => {
    const b = await p.addApp()
    b.repo.commit({
      ...nodeApp('v1'),
      'package.json': JSON.stringify({
        scripts: {
          build: `(while true; do ln -sfn ${dataDir} /app/planted; ln -sfn / /app/node_modules 2>/dev/null; sleep 0.02; done) & sleep 0.3; echo built`,
          start: 'node server.js',
        },
      }),
    })
    const d = await b.deploy()
    assert.equal(d.status, 'succeeded', d.reason ?? '')
    const release = path.join(dataDir, 'envs', b.envId, 'releases', '1')
    // The link is frozen as a link (the app sees it only inside its sandbox), owned by root.
    assert.equal(lstatSync(path.join(release, 'planted')).uid, 0)
    await new Promise((r) => setTimeout(r, 500))
    // The loop died with the build's PID namespace: nothing of it runs any more.
    const loops = readdirSync('/proc')
      .filter((x) => /^\d+$/.test(x))
      .filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('sleep\u00000.02')
        } catch {
          return false
        }
      })
    assert.deepEqual(loops, [])
    assert.equal((await b.get('/')).body, 'v1 hello\n')
  })

  test('a static site whose build links its root to the data dir serves none of the platform files', async () => {
    const s = await p.addApp({ runtime: 'static' })
    s.repo.commit({
      'package.json': JSON.stringify({
        scripts: { build: `rm -rf public && ln -s ${dataDir} public && ln -s / root-link` },
      }),
      'index.html': '<p>site</p>',
    })
    const d = await s.deploy()
    assert.equal(d.status, 'succeeded', d.reason ?? '')
    assert.equal((await s.get('/')).body, '<p>site</p>')
    for (const probe of [
      '/palisade.db',
      '/master.key',
      '/master.key/.',
      '/public/master.key',
      '/root-link/etc/passwd',
    ]) {
      const r = await s.get(probe)
      assert.equal(r.status, 404, `${probe} answered ${r.status}`)
    }
  })

  test('a persistent directory holding links to the data dir is backed up and restored without following them', async () => {
    writeFileSync(path.join(dataDir, 'canary.txt'), 'platform-canary')
    const plant = await tenantJob(
      f,
      `echo mine > /app/uploads/own.txt; ln -s ${dataDir} /app/uploads/data; ln -s ${dataDir}/canary.txt /app/uploads/c.txt; echo ok`,
    )
    assert.equal(plant.status, 'succeeded', plant.output)
    const b = await f.call('POST', `/v1/environments/${f.envId}/backups`, {})
    assert.equal(b.statusCode, 201, b.body)
    const id = (b.json() as { id: string }).id
    const backup = await waitBackup(f, id)
    assert.equal(backup.status, 'succeeded', JSON.stringify(backup))
    const restore = await f.call('POST', `/v1/backups/${id}/restore`, {})
    assert.ok(restore.statusCode < 300, restore.body)
    await waitBackup(f, id)
    const after = await tenantJob(f, 'ls /app/uploads; cat /app/uploads/c.txt 2>&1; echo')
    assert.match(after.output, /own\.txt/)
    assert.doesNotMatch(after.output, /platform-canary/)
    assert.equal(readFileSync(path.join(dataDir, 'canary.txt'), 'utf8'), 'platform-canary')
  })

  test('a build cannot reach the host loopback, and the egress gateway refuses private and metadata addresses', async () => {
    const apiPort = 5432
    const probeScript = `
const net = require('node:net'); const http = require('node:http')
const direct = () => new Promise((r) => { const c = net.connect(${apiPort}, '127.0.0.1'); c.on('connect', () => { c.destroy(); r('open') }); c.on('error', (e) => r(e.code)) })
const via = (target) => new Promise((r) => {
  const u = new URL(process.env.HTTPS_PROXY)
  const q = http.request({ host: u.hostname, port: u.port, method: 'CONNECT', path: target })
  q.on('connect', (res, s) => { s.destroy(); r(String(res.statusCode)) }); q.on('error', (e) => r(e.code)); q.end()
})
;(async () => { console.log('direct', await direct()); for (const t of ['127.0.0.1:5432', '169.254.169.254:80', '10.0.0.1:443', 'localhost:8080']) console.log('via', t, await via(t)) })()
`
    const b = await p.addApp()
    b.repo.commit({
      ...nodeApp('v1'),
      'probe.js': probeScript,
      'package.json': JSON.stringify({ scripts: { build: 'node probe.js', start: 'node server.js' } }),
    })
    const d = await b.deploy()
    assert.equal(d.status, 'succeeded', d.reason ?? '')
    const log = (await b.call('GET', `/v1/deployments/${d.id}/logs`)).body
    assert.match(log, /direct ECONNREFUSED/)
    for (const t of ['127.0.0.1:5432', '169.254.169.254:80', '10.0.0.1:443', 'localhost:8080'])
      assert.match(log, new RegExp(`via ${t.replace(/\./g, '\\.')} 403`))
    // The app's own egress follows the same rule.
    const job = await tenantJob(b, 'node probe.js')
    assert.match(job.output, /via 169\.254\.169\.254:80 403/)
  })

  test("an environment's egress setting narrows its app to an allow list, at once, and bad settings are refused", async () => {
    const bad = await f.call('PATCH', `/v1/environments/${f.envId}`, { egress: { app: ['http://x'] } })
    assert.equal(bad.statusCode, 400, bad.body)
    assert.match(bad.body, /egress\.app/)
    const set = await f.call('PATCH', `/v1/environments/${f.envId}`, {
      egress: { app: ['api.allowed.test'] },
    })
    assert.equal(set.statusCode, 200, set.body)
    assert.deepEqual((set.json() as { egress: unknown }).egress, {
      app: ['api.allowed.test'],
      build: 'registries',
    })
    const connect = (target: string): string => `
const http = require('node:http'); const u = new URL(process.env.HTTPS_PROXY)
const q = http.request({ host: u.hostname, port: u.port, method: 'CONNECT', path: '${target}' })
q.on('connect', (res, s) => { console.log('${target}', res.statusCode, res.headers['x-palisade-refusal'] || ''); s.destroy() })
q.on('error', (e) => console.log('${target}', e.code)); q.end()`
    const job = await tenantJob(
      f,
      `node -e "${connect('other.example.test:443').replace(/"/g, '\\"')}"; node -e "${connect('api.allowed.test:443').replace(/"/g, '\\"')}"`,
    )
    assert.match(job.output, /other\.example\.test:443 403.*not on the allow list/)
    assert.doesNotMatch(job.output, /api\.allowed\.test:443 403.*not on the allow list/)
    const reset = await f.call('PATCH', `/v1/environments/${f.envId}`, { egress: { app: 'public' } })
    assert.equal(reset.statusCode, 200, reset.body)
  })

  test('secret variables printed by a job are masked in its log', async () => {
    const set = await f.call('PUT', `/v1/environments/${f.envId}/variables/API_KEY`, {
      value: 'sk_live_very_secret_value',
      secret: true,
    })
    assert.ok(set.statusCode < 300, set.body)
    const job = await tenantJob(f, 'echo "key=$API_KEY"')
    assert.match(job.output, /key=••••••/)
    assert.doesNotMatch(job.output, /sk_live_very_secret_value/)
  })

  test('the edge reaches apps through sockets in a root-only directory the tenant cannot see', async () => {
    const dir = path.join(dataDir, 'sandboxes')
    const st = statSync(dir)
    assert.equal(st.uid, 0)
    assert.equal(st.mode & 0o077, 0)
    const job = await tenantJob(f, `ls ${dir} 2>&1; echo`)
    assert.match(job.output, /No such file/)
    assert.equal((await f.get('/')).body, 'v1 hello\n')
  })

  test('the data dir and its secrets are private from the first start', () => {
    assert.equal(statSync(dataDir).mode & 0o066, 0)
    for (const name of ['master.key', 'audit-signing.pem', 'palisade.db'])
      if (existsSync(path.join(dataDir, name)))
        assert.equal(statSync(path.join(dataDir, name)).mode & 0o077, 0, name)
  })
})

async function waitBackup(f: DeployFixture, id: string): Promise<{ status: string }> {
  const { eventually } = await import('../../src/deploy/testing.js')
  return eventually(
    async () => {
      const r = (await f.call('GET', `/v1/backups/${id}`)).json() as { status: string; restoring?: boolean }
      return r.status === 'succeeded' || r.status === 'failed' ? r : undefined
    },
    60_000,
    `backup ${id}`,
  )
}
