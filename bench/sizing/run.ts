/**
 * Sizing benchmark. (1) Requests per second of a CPU-bound app (each request ~2 ms of JavaScript) behind the
 * platform's own edge with its WAF (CRS when installed), at instances 1 and 2 (CPU each, default 0.5), with wrk.
 * (2) What the cgroup set-up costs a deploy: the deploy time with limits, and per process the cost of creating
 * the unit and entering it through the launcher (vs. exec'ing the same command directly).
 * Usage (root, as `palisade serve` runs): node --import tsx bench/sizing/run.ts
 *   env: CPU=0.5 (per instance) LIMITS=1 (0: sandboxes without cgroups) DURATION=10s CONNECTIONS=16 THREADS=2 REPS=50 DEPLOYS=3 ROUNDS=3 (alternating 1 and 2 instances)
 */
import { spawn, spawnSync } from 'node:child_process'
import { chmodSync, mkdtempSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import path from 'node:path'
import { loadConfig } from '../../src/config/index.js'
import { removeSandbox, sandboxName } from '../../src/deploy/index.js'
import { detectCgroups } from '../../src/deploy/drivers/local/cgroups.js'
import { createRepo, nodeApp } from '../../src/deploy/testing.js'
import { createPlatform } from '../../src/main.js'

const DURATION = process.env['DURATION'] ?? '10s'
const CONNECTIONS = process.env['CONNECTIONS'] ?? '16'
const THREADS = process.env['THREADS'] ?? '2'
const REPS = Number(process.env['REPS'] ?? 50)
const DEPLOYS = Number(process.env['DEPLOYS'] ?? 3)
const ROUNDS = Number(process.env['ROUNDS'] ?? 3)
/** CPUs per instance: with 0.5 the instance's quota, not the host, bounds one instance. */
const CPU = Number(process.env['CPU'] ?? 0.5)
/** LIMITS=0: the same sandboxes without cgroups (what the limits cost). */
const LIMITS = process.env['LIMITS'] !== '0'
if (process.getuid?.() !== 0) throw new Error('run as root: limits are enforced only with isolation')

const root = mkdtempSync(path.join(tmpdir(), 'pal-bench-sizing-'))
chmodSync(root, 0o711)
const work = path.join(root, 'work')
const repo = createRepo(work)
const cpuApp = (v: string): Record<string, string> => {
  const files = nodeApp(v)
  const server = (files['server.js'] ?? '').replace(
    "res.writeHead(200, { 'content-type': 'text/plain' })",
    "let x = 0; for (let i = 0; i < 3e6; i++) x = (x * 31 + i) | 0; res.writeHead(200, { 'content-type': 'text/plain', 'x-work': String(x) })",
  )
  if (server === files['server.js']) throw new Error('the sample app was not changed')
  return { ...files, 'server.js': server }
}
repo.commit(cpuApp('v0'), 'cpu-bound sample')

const config = loadConfig(
  {},
  {
    dataDir: path.join(root, 'data'),
    masterKey: 'c'.repeat(64),
    logLevel: 'silent',
    gitLocalRoots: root,
    edgeHttpListen: '127.0.0.1:0',
    edgeHttpsListen: '127.0.0.1:0',
  },
)
let setupToken = ''
const platform = await createPlatform(config, {
  announce: (l) => (setupToken = l.split(': ').pop() ?? ''),
  deploy: {
    isolate: true,
    limits: LIMITS,
    options: { throttle: { requestsPerSecond: 0, burst: 0 }, drainMs: 300 },
  },
})
const { http } = await platform.edge.listen()
await platform.deploy.attachRoutes(platform.edge.routes)
const call = async (
  method: 'GET' | 'POST' | 'PATCH',
  url: string,
  body?: unknown,
  token?: string,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- bench script reads loosely shaped JSON
): Promise<any> =>
  (
    await platform.app.inject({
      method,
      url,
      headers: token ? { authorization: `Bearer ${token}` } : {},
      ...(body === undefined ? {} : { payload: body as string }),
    })
  ).json()
const pw = 'correct horse battery staple 42'
const setup = await call('POST', '/v1/setup', {
  token: setupToken,
  email: 's@example.com',
  password: pw,
  workspace: 'acme',
})
const { token } = await call('POST', '/v1/sessions', { email: 's@example.com', password: pw })
const project = await call(
  'POST',
  `/v1/workspaces/${setup.workspace.id}/projects`,
  { name: 'cpu', repository: work },
  token,
)
const env = await call(
  'POST',
  `/v1/projects/${project.id}/environments`,
  { name: 'main', sizing: { instances: 1, memoryMb: 256, cpu: CPU } },
  token,
)

async function deploy(): Promise<number> {
  const started = Date.now()
  const d = await call('POST', `/v1/environments/${env.id}/deployments`, {}, token)
  for (;;) {
    const s = await call('GET', `/v1/deployments/${d.id}`, undefined, token)
    if (s.status === 'succeeded') return Date.now() - started
    if (s.status === 'failed') throw new Error(`deploy failed: ${s.reason}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

async function instancesHealthy(n: number): Promise<void> {
  for (;;) {
    const s = await call('GET', `/v1/environments/${env.id}/status`, undefined, token)
    if (s.instances.length === n && s.instances.every((i: { healthy: boolean }) => i.healthy)) return
    await new Promise((r) => setTimeout(r, 100))
  }
}

function wrk(): Promise<{ rps: number; errors: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn('wrk', [
      '-t',
      THREADS,
      '-c',
      CONNECTIONS,
      '-d',
      DURATION,
      '-H',
      `Host: ${env.host}`,
      `http://127.0.0.1:${http.port}/`,
    ])
    let out = ''
    c.stdout.on('data', (b: Buffer) => (out += b.toString()))
    c.on('error', reject)
    c.on('exit', () => {
      const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN)
      const errors = /Non-2xx or 3xx responses: \d+|Socket errors: .*/.exec(out)?.[0] ?? 'none'
      resolve({ rps, errors })
    })
  })
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN

try {
  const deployMs: number[] = []
  for (let i = 0; i < DEPLOYS; i++) {
    repo.commit(cpuApp(`v${i + 1}`), `v${i + 1}`)
    deployMs.push(await deploy())
  }
  await instancesHealthy(1)
  await wrk() // warm-up: the WAF compiles on first use, the JIT warms up
  // Alternating rounds (1, 2, 1, 2, …): a shared machine's load drifts; each count gets the same share of it.
  const rps: Record<1 | 2, number[]> = { 1: [], 2: [] }
  const errors: string[] = []
  for (let round = 0; round < ROUNDS; round++) {
    for (const n of [1, 2] as const) {
      await call('PATCH', `/v1/environments/${env.id}`, { sizing: { instances: n } }, token)
      await instancesHealthy(n)
      const r = await wrk()
      rps[n].push(r.rps)
      if (r.errors !== 'none') errors.push(`instances ${n}: ${r.errors}`)
    }
  }
  const load = loadavg()[0]?.toFixed(1) ?? '?'

  // Per process: creating a unit and entering it through the launcher, against exec'ing the same command.
  const d = detectCgroups()
  if (!d.ok) throw new Error(d.reason)
  const limits = { memoryBytes: 256 * 1024 ** 2, cpuQuotaUs: 100_000, cpuPeriodUs: 100_000, pidsMax: 512 }
  const time = (fn: () => void): number => {
    const t = process.hrtime.bigint()
    for (let i = 0; i < REPS; i++) fn()
    return Number(process.hrtime.bigint() - t) / 1e6 / REPS
  }
  const direct = time(() => spawnSync('/bin/true'))
  let n = 0
  const limited = time(() => {
    const unit = `bench-${n++}`
    d.cgroups.ensure('pal-bench', unit, limits)
    spawnSync(
      d.cgroups.launcherArgv('pal-bench', unit, ['/bin/true'])[0] as string,
      d.cgroups.launcherArgv('pal-bench', unit, ['/bin/true']).slice(1),
    )
  })
  await d.cgroups.removeGroup('pal-bench')

  console.log(
    `cgroup v${d.cgroups.version}, limits ${LIMITS ? 'on' : 'OFF'}, ${DURATION} wrk -t${THREADS} -c${CONNECTIONS}, CPU-bound app (~3e6 loop iterations a request), cpu ${CPU} per instance`,
  )
  console.log(`load average at the end: ${load} on ${cpus().length} cores`)
  for (const n of [1, 2] as const)
    console.log(
      `instances ${n}: median ${median(rps[n]).toFixed(0)} req/s (rounds: ${rps[n].map((x) => x.toFixed(0)).join(', ')})`,
    )
  console.log(`errors: ${errors.length === 0 ? 'none' : errors.join('; ')}`)
  console.log(
    `deploy (build + start + health check + switch), median of ${DEPLOYS}: ${median(deployMs)} ms (${deployMs.join(', ')})`,
  )
  console.log(
    `per process: exec ${direct.toFixed(2)} ms; create unit + enter + exec ${limited.toFixed(2)} ms (+${(limited - direct).toFixed(2)} ms)`,
  )
} finally {
  await platform.close()
  await removeSandbox(sandboxName(env.id)).catch(() => undefined)
  rmSync(root, { recursive: true, force: true })
}
