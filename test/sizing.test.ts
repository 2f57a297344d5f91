import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { describe, test } from 'node:test'
import { sandboxName, type EnvironmentRuntimeStatus, type Job } from '../src/deploy/index.js'
import { eventually, nodeApp } from '../src/deploy/testing.js'
import { httpGet, startDeployPlatform, suiteScope, type DeployFixture } from './deploy-helpers.js'

const isRoot = process.getuid?.() === 0
const skip = isRoot ? false : 'needs root (sandboxes and cgroups)'

/** An app that answers with its version (or its instance id), and on request leaks memory or spins CPU threads. */
function sizedApp(version: string): Record<string, string> {
  const server = `
const http = require('node:http')
const server = http.createServer((req, res) => {
  if (req.url === '/whoami') return res.end(process.env.PALISADE_INSTANCE)
  if (req.url === '/leak') {
    const hoard = []
    const grow = () => { for (let i = 0; i < 4; i++) hoard.push(Buffer.alloc(16 * 1024 * 1024, 7)); setImmediate(grow) }
    return grow()
  }
  if (req.url === '/burn') {
    const { Worker } = require('node:worker_threads')
    for (let i = 0; i < 3; i++) new Worker('for (;;) {}', { eval: true })
    return res.end('burning')
  }
  res.end('${version} hello\\n')
})
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening ${version}'))
process.on('SIGTERM', () => { server.close(() => process.exit(0)); server.closeIdleConnections() })
`
  return { ...nodeApp(version), 'server.js': server }
}

async function status(f: DeployFixture): Promise<EnvironmentRuntimeStatus> {
  const r = await f.call('GET', `/v1/environments/${f.envId}/status`)
  assert.equal(r.statusCode, 200, r.body)
  return r.json() as EnvironmentRuntimeStatus
}

async function resize(f: DeployFixture, sizing: Record<string, number>): Promise<void> {
  const r = await f.call('PATCH', `/v1/environments/${f.envId}`, { sizing })
  assert.equal(r.statusCode, 200, r.body)
}

function get(
  port: number,
  host: string,
  path: string,
  agent: Agent,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host }, agent }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }))
      res.on('error', () => resolve({ status: -1, body: '' }))
    })
    req.on('error', (e) => resolve({ status: -1, body: e.message }))
    req.end()
  })
}

describe('sizing is enforced (root)', { skip }, () => {
  const scope = suiteScope()
  let p: Awaited<ReturnType<typeof startDeployPlatform>>

  test('the status reports that limits are enforced through cgroups', async () => {
    p = await startDeployPlatform(scope, { isolate: true, deploy: { jobTimeoutMs: 20_000 } })
    const f = await p.addApp()
    f.repo.commit(sizedApp('v1'))
    assert.equal((await f.deploy()).status, 'succeeded')
    const s = await status(f)
    assert.match(s.limits, /^cgroup-v[12]$/)
    assert.equal(s.instances.length, 1)
    const u = s.instances[0]?.usage
    assert.ok(u, 'usage is reported')
    assert.equal(u.memoryLimitBytes, 512 * 1024 ** 2)
    assert.equal(u.pidsMax, 512)
    assert.ok(u.memoryBytes > 0 && u.pids > 0)
  })

  test('an app allocating past its memoryMb is killed and restarted while a neighbour and the control plane keep answering', async () => {
    const leaky = await p.addApp()
    const neighbour = await p.addApp()
    await resize(leaky, { memoryMb: 160 })
    leaky.repo.commit(sizedApp('leaky'))
    neighbour.repo.commit(sizedApp('calm'))
    assert.equal((await leaky.deploy()).status, 'succeeded')
    assert.equal((await neighbour.deploy()).status, 'succeeded')
    const before = (await status(leaky)).instances[0]
    assert.equal(before?.oomKills, 0)

    const leak = leaky.get('/leak')
    // Meanwhile the neighbour and the API answer every request.
    const answers: number[] = []
    for (let i = 0; i < 40; i++) {
      answers.push((await neighbour.get('/')).status)
      answers.push((await p.platform.app.inject({ method: 'GET', url: '/v1/health' })).statusCode)
    }
    assert.notEqual((await leak).status, 200, 'the leaking request did not complete')
    assert.deepEqual(answers, Array(80).fill(200))

    const after = await eventually(
      async () => {
        const s = (await status(leaky)).instances[0]
        return s && (s.oomKills ?? 0) >= 1 && s.state === 'running' && s.healthy ? s : undefined
      },
      30_000,
      'the OOM-killed instance back in service',
    )
    assert.ok(after.restarts >= 1)
    assert.ok(after.lastOomAt)
    assert.equal((await leaky.get('/')).body, 'leaky hello\n')
    const log = await leaky.call('GET', `/v1/environments/${leaky.envId}/deployments`)
    const dep = (log.json() as { items: { id: string }[] }).items[0]
    const text = (await leaky.call('GET', `/v1/deployments/${dep?.id ?? ''}/logs`)).body
    assert.match(text, /out of memory: the instance used more than its 160 MB limit/)
  })

  test('a job that forks without end stops at the process cap and the host still answers', async () => {
    const f = await p.addApp()
    f.repo.commit(sizedApp('bomb'))
    assert.equal((await f.deploy()).status, 'succeeded')
    // Forks `sleep` until the kernel refuses, then keeps trying for a second: a fork bomb that cannot grow.
    const bomb = [
      "const { spawn } = require('node:child_process')",
      'let n = 0, refused = 0',
      'const kids = []',
      "const next = () => { let c; try { c = spawn('sleep', ['60']) } catch { refused++; return setTimeout(next, 5) }",
      "  c.on('error', () => { refused++; if (refused > 50) { console.log('capped at ' + n); process.exit(0) } setTimeout(next, 5) })",
      "  c.on('spawn', () => { n++; kids.push(c); next() }) }",
      'next()',
    ].join('\n')
    const r = await f.call('POST', `/v1/environments/${f.envId}/jobs`, {
      type: 'command',
      command: `node -e "${bomb.replace(/"/g, '\\"')}"`,
    })
    assert.equal(r.statusCode, 202, r.body)
    const jobId = (r.json() as Job).id
    const hostAnswers: boolean[] = []
    let job: Job | undefined
    while (!job) {
      hostAnswers.push(spawnSync('/bin/true').status === 0)
      hostAnswers.push((await p.platform.app.inject({ method: 'GET', url: '/v1/health' })).statusCode === 200)
      const j = (await f.call('GET', `/v1/jobs/${jobId}`)).json() as Job
      if (j.status === 'succeeded' || j.status === 'failed') job = j
      else await new Promise((res) => setTimeout(res, 100))
    }
    assert.ok(hostAnswers.length > 0 && hostAnswers.every(Boolean))
    const out = (await f.call('GET', `/v1/jobs/${jobId}/logs`)).body
    const capped = Number(/capped at (\d+)/.exec(out)?.[1] ?? -1)
    assert.ok(capped > 0 && capped < 512, `forked ${capped}: ${out.slice(-400)}`)
    assert.equal(job.status, 'succeeded', job.reason ?? '')
  })

  test("a busy loop in one environment leaves another's requests answered, and uses no more than its CPU quota", async () => {
    const busy = await p.addApp()
    const calm = await p.addApp()
    await resize(busy, { cpu: 0.5 })
    busy.repo.commit(sizedApp('busy'))
    calm.repo.commit(sizedApp('calm'))
    assert.equal((await busy.deploy()).status, 'succeeded')
    assert.equal((await calm.deploy()).status, 'succeeded')
    assert.equal((await busy.get('/burn')).body, 'burning')
    await status(busy) // first CPU sample
    const deadline = Date.now() + 60_000
    let answered = 0
    for (let i = 0; i < 200 && Date.now() < deadline; i++)
      if ((await calm.get('/')).status === 200) answered++
    assert.equal(answered, 200, 'all 200 neighbour requests answered within the deadline')
    await status(busy)
    await new Promise((r) => setTimeout(r, 3_000))
    const s = (await status(busy)).instances[0]
    // Three threads spin; the quota allows half a CPU (the kernel may overshoot by a period or so).
    assert.ok(typeof s?.usage?.cpuRecent === 'number', JSON.stringify(s?.usage))
    assert.ok(s.usage.cpuRecent >= 0.3, `the busy loop runs (${s.usage.cpuRecent} CPUs)`)
    assert.ok(s.usage.cpuRecent <= 0.7, `busy environment used ${s.usage.cpuRecent} CPUs`)
  })

  test('instances: 3 gives three processes that all take requests, a killed one loses no retriable request, and 3 → 1 → 2 needs no deploy', async () => {
    const f = await p.addApp()
    await resize(f, { instances: 3 })
    f.repo.commit(sizedApp('v1'))
    assert.equal((await f.deploy()).status, 'succeeded')
    const s = await status(f)
    assert.equal(s.instances.length, 3)
    const pids = new Set(s.instances.map((i) => i.pid))
    assert.equal(pids.size, 3)
    assert.ok(s.instances.every((i) => i.state === 'running' && i.healthy))

    const agent = new Agent({ keepAlive: true, maxSockets: 8 })
    const seen = new Map<string, number>()
    for (let i = 0; i < 60; i++) {
      const r = await get(f.edgePort, f.host, '/whoami', agent)
      assert.equal(r.status, 200)
      seen.set(r.body, (seen.get(r.body) ?? 0) + 1)
    }
    assert.equal(seen.size, 3, `requests reached ${[...seen.keys()].join(', ')}`)
    for (const i of s.instances) assert.ok((seen.get(i.instanceId) ?? 0) > 0, `${i.instanceId} saw requests`)

    // Load while one instance is killed: every GET is answered (retried on another instance).
    const results: number[] = []
    let running = true
    const worker = async (): Promise<void> => {
      while (running) results.push((await get(f.edgePort, f.host, '/', agent)).status)
    }
    const load = Promise.all(Array.from({ length: 6 }, () => worker()))
    await new Promise((r) => setTimeout(r, 300))
    const victim = s.instances[1]
    assert.ok(victim?.pid)
    process.kill(-victim.pid, 'SIGKILL')
    await new Promise((r) => setTimeout(r, 2_500))
    running = false
    await load
    agent.destroy()
    assert.ok(results.length >= 100, `only ${results.length} requests`)
    assert.deepEqual(
      results.filter((c) => c !== 200),
      [],
      `${results.filter((c) => c !== 200).length} of ${results.length} failed`,
    )
    const back = await eventually(
      async () => {
        const st = await status(f)
        return st.instances.every((i) => i.healthy) ? st : undefined
      },
      20_000,
      'the killed instance back',
    )
    assert.ok((back.instances[1]?.restarts ?? 0) >= 1)

    const deployments = async (): Promise<number> =>
      ((await f.call('GET', `/v1/environments/${f.envId}/deployments`)).json() as { items: unknown[] }).items
        .length
    const before = await deployments()
    for (const n of [1, 2]) {
      await resize(f, { instances: n })
      const st = await eventually(
        async () => {
          const x = await status(f)
          return x.instances.length === n && x.instances.every((i) => i.healthy) ? x : undefined
        },
        30_000,
        `${n} instances`,
      )
      assert.equal(st.sizing.instances, n)
      const r = await httpGet(f.edgePort, f.host, '/')
      assert.equal(r.status, 200)
    }
    assert.equal(await deployments(), before, 'scaling made no deployment')
    const audit = await f.call(
      'GET',
      `/v1/workspaces/${f.workspaceId}/audit-events?action=environment.update`,
    )
    const events = (audit.json() as { items: { changes: unknown }[] }).items
    assert.ok(
      events.some((e) => JSON.stringify(e.changes).includes('"instances"')),
      'the scaling is in the audit log',
    )
  })

  test(
    'a service runs in its own cgroup with its share of the sizing, as the environment user, resized without a restart',
    { skip: existsSync('/usr/bin/redis-server') ? false : 'needs redis-server' },
    async () => {
      const f = await p.addApp()
      await resize(f, { memoryMb: 1024 })
      f.repo.commit(sizedApp('svc'))
      assert.equal((await f.deploy()).status, 'succeeded')
      const res = await f.call('POST', `/v1/environments/${f.envId}/services`, { type: 'redis' })
      assert.equal(res.statusCode, 201, res.body)
      const id = (res.json() as { id: string }).id
      await eventually(
        async () => {
          const st = (await f.call('GET', `/v1/services/${id}`)).json() as {
            status: string
            reason: string | null
          }
          assert.notEqual(st.status, 'failed', st.reason ?? '')
          return st.status === 'running' ? st : undefined
        },
        120_000,
        'redis running',
      )
      const unit = `svc-${id.toLowerCase().replace(/[^a-z0-9-]/g, '-')}`
      const mem = `/sys/fs/cgroup/memory/palisade/${sandboxName(f.envId)}/${unit}`
      const v2 = `/sys/fs/cgroup/palisade/${sandboxName(f.envId)}/${unit}`
      const dir = existsSync(mem) ? mem : v2
      const limitFile = `${dir}/${dir === mem ? 'memory.limit_in_bytes' : 'memory.max'}`
      const limit = readFileSync(limitFile, 'utf8').trim()
      assert.equal(Number(limit), 512 * 1024 ** 2, 'half the instance size')
      const pids = readFileSync(`${dir}/cgroup.procs`, 'utf8').trim().split('\n').filter(Boolean)
      assert.ok(pids.length >= 1, 'the server is inside')
      // The server runs as the environment's user; root's only processes there are the sandbox's own (bubblewrap).
      const server = pids.find((pid) =>
        readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('redis-server'),
      )
      assert.ok(server, 'the Redis server is inside the cgroup')
      const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${server}/status`, 'utf8'))?.[1]
      assert.ok(Number(uid) >= 610_000, `runs as the environment user (${uid})`)
      for (const pid of pids) {
        const owner = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
        if (owner === '0')
          assert.match(
            readFileSync(`/proc/${pid}/cmdline`, 'utf8'),
            /^(\/usr\/bin\/)?bwrap\0/,
            `root process ${pid}`,
          )
      }
      await resize(f, { memoryMb: 2048 })
      await eventually(
        async () => (Number(readFileSync(limitFile, 'utf8').trim()) === 1024 * 1024 ** 2 ? true : undefined),
        20_000,
        'the service limit follows the sizing',
      )
      assert.ok(
        readFileSync(`${dir}/cgroup.procs`, 'utf8').includes(server),
        'the same server, not restarted',
      )
    },
  )
})
