/**
 * bench/restart: time from launching `palisade serve` (compiled dist/, as `npm start` runs it) to every
 * environment answering with its recorded release through the edge, for 1, 10 and 50 environments, after a
 * stop for good (SIGTERM: every app was stopped, the start starts them all) and after a crash (kill -9: the
 * apps kept running, the start adopts them). Root only (isolation, as in production). Median of N runs each.
 * Run: npm run build && node --import tsx bench/restart/run.ts [--sizes 1,10,50] [--runs 3]
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { chmodSync, cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { removeSandbox, sandboxName } from '../../src/deploy/index.js'
import { createRepo } from '../../src/deploy/testing.js'
import { freePort, REPO } from '../../test/support/processes.js'

const args = process.argv.slice(2)
const arg = (name: string, fallback: string): string => {
  const i = args.indexOf(name)
  return i >= 0 ? (args[i + 1] ?? fallback) : fallback
}
const SIZES = arg('--sizes', '1,10,50').split(',').map(Number)
const RUNS = Number(arg('--runs', '3'))
if (process.getuid?.() !== 0) throw new Error('bench/restart runs as root (isolation on, as in production)')

interface Rig {
  dataDir: string
  apiPort: number
  edgePort: number
  httpsPort: number
  root: string
}

function spawnServe(rig: Rig): ChildProcess {
  return spawn(
    process.execPath,
    [path.join(REPO, 'bin/palisade'), 'serve', '--api-listen', `127.0.0.1:${rig.apiPort}`],
    {
      env: {
        PATH: process.env['PATH'] ?? '',
        PALISADE_LOG_LEVEL: 'info',
        PALISADE_RUNTIME_PINNING: 'off',
        PALISADE_DATA_DIR: rig.dataDir,
        PALISADE_MASTER_KEY: 'd'.repeat(64),
        PALISADE_EDGE_HTTP_LISTEN: `127.0.0.1:${rig.edgePort}`,
        PALISADE_EDGE_HTTPS_LISTEN: `127.0.0.1:${rig.httpsPort}`,
        PALISADE_EDGE_WORKERS: '1',
        PALISADE_GIT_LOCAL_ROOTS: rig.root,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  )
}

/** The reconcile's own duration, from the start's log line (`processes reconciled with the store`). */
function watchReconcile(child: ChildProcess, into: number[]): void {
  let buf = ''
  child.stderr?.setEncoding('utf8').on('data', (t: string) => {
    buf += t
    let i
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i)
      buf = buf.slice(i + 1)
      if (line.includes('processes reconciled with the store'))
        into.push((JSON.parse(line) as { durationMs: number }).durationMs)
    }
  })
}

function edgeGet(port: number, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/',
        headers: { host, 'user-agent': 'bench/1.0', accept: 'text/plain' },
        agent: false,
      },
      (res) => {
        let body = ''
        res.setEncoding('utf8').on('data', (c: string) => (body += c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
        res.on('error', () => resolve({ status: -1, body: '' }))
      },
    )
    req.setTimeout(2_000, () => req.destroy())
    req.on('error', () => resolve({ status: -1, body: '' }))
    req.end()
  })
}

async function waitHealth(rig: Rig, child: ChildProcess): Promise<void> {
  const until = Date.now() + 60_000
  for (;;) {
    if (child.exitCode !== null) throw new Error('serve exited')
    try {
      if ((await fetch(`http://127.0.0.1:${rig.apiPort}/v1/health`)).ok) return
    } catch {
      // not yet
    }
    if (Date.now() > until) throw new Error('serve did not start')
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** Milliseconds from spawn until every host answers 200 with its expected body. */
async function timeToServing(
  rig: Rig,
  expected: Map<string, string>,
): Promise<{ ms: number; child: ChildProcess }> {
  const started = performance.now()
  const child = spawnServe(rig)
  watchReconcile(child, reconcileMs)
  await waitHealth(rig, child)
  healthMs.push(performance.now() - started)
  const pending = new Set(expected.keys())
  while (pending.size > 0) {
    if (child.exitCode !== null) throw new Error('serve exited')
    await Promise.all(
      [...pending].map(async (host) => {
        const r = await edgeGet(rig.edgePort, host)
        if (r.status === 200 && r.body.startsWith(expected.get(host) ?? '\0')) pending.delete(host)
      }),
    )
    if (performance.now() - started > 120_000)
      throw new Error(`${pending.size} environments not serving after 120 s`)
    if (pending.size > 0) await new Promise((r) => setTimeout(r, 20))
  }
  return { ms: performance.now() - started, child }
}

const ended = (c: ChildProcess): Promise<void> =>
  new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r())))

/** Time to the API's first health answer of each start (the platform's own start-up, for comparison). */
let healthMs: number[] = []
/** How long each start's reconcile took (adoption of every instance, or nothing to adopt). */
let reconcileMs: number[] = []

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN

async function benchSize(n: number): Promise<{ n: number; graceful: number[]; crash: number[] }> {
  const root = mkdtempSync(path.join(tmpdir(), 'pal-bench-restart-'))
  chmodSync(root, 0o711)
  const rig: Rig = {
    dataDir: path.join(root, 'data'),
    apiPort: await freePort(),
    edgePort: await freePort(),
    httpsPort: await freePort(),
    root,
  }
  const work = path.join(root, 'app')
  cpSync(path.join(REPO, 'examples/node-hello'), work, { recursive: true })
  createRepo(work).commit({}, 'initial')
  const envIds: string[] = []
  let child = spawnServe(rig)
  try {
    await waitHealth(rig, child)
    const api = async (
      method: string,
      url: string,
      body?: unknown,
      token?: string,
    ): Promise<Record<string, unknown>> => {
      const res = await fetch(`http://127.0.0.1:${rig.apiPort}${url}`, {
        method,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
      return (await res.json()) as Record<string, unknown>
    }
    const owner = { email: 'b@example.com', password: 'correct horse battery staple 42' }
    await api('POST', '/v1/setup', {
      token: readFileSync(path.join(rig.dataDir, 'setup-token'), 'utf8').trim(),
      ...owner,
      workspace: 'acme',
    })
    const token = (await api('POST', '/v1/sessions', owner))['token'] as string
    const project = await api(
      'POST',
      '/v1/workspaces/acme/projects',
      { name: 'hello', repository: work },
      token,
    )
    const expected = new Map<string, string>()
    // Deployed five at a time (two cores shared with others).
    for (let i = 0; i < n; i += 5) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(5, n - i) }, async (_, k) => {
          const env = await api(
            'POST',
            `/v1/projects/${String(project['id'])}/environments`,
            { name: `e${i + k}` },
            token,
          )
          envIds.push(env['id'] as string)
          expected.set(env['host'] as string, 'Hello from Palisade')
          const d = await api('POST', `/v1/environments/${String(env['id'])}/deployments`, {}, token)
          for (;;) {
            const s = await api('GET', `/v1/deployments/${String(d['id'])}`, undefined, token)
            if (s['status'] === 'succeeded') return
            if (s['status'] === 'failed') throw new Error(`deploy failed: ${String(s['reason'])}`)
            await new Promise((r) => setTimeout(r, 100))
          }
        }),
      )
      void batch
    }
    const graceful: number[] = []
    const crash: number[] = []
    for (let r = 0; r < RUNS; r++) {
      child.kill('SIGTERM')
      await ended(child)
      ;({ child, ms: graceful[r] } = await timeToServing(rig, expected).then((x) => ({
        child: x.child,
        ms: x.ms,
      })))
      child.kill('SIGKILL')
      await ended(child)
      ;({ child, ms: crash[r] } = await timeToServing(rig, expected).then((x) => ({
        child: x.child,
        ms: x.ms,
      })))
    }
    return { n, graceful, crash }
  } finally {
    child.kill('SIGTERM')
    await ended(child)
    for (const id of envIds) await removeSandbox(sandboxName(id))
    rmSync(root, { recursive: true, force: true })
  }
}

console.log(
  `load average at start: ${(await import('node:os'))
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
)
console.log(
  `bench/restart: ${RUNS} run(s) per size; ms from spawning palisade serve to every environment serving its release`,
)
for (const n of SIZES) {
  healthMs = []
  reconcileMs = []
  const r = await benchSize(n)
  const fmt = (xs: number[]): string =>
    `median ${median(xs).toFixed(0)} ms (runs: ${xs.map((x) => x.toFixed(0)).join(', ')})`
  console.log(`${String(n).padStart(3)} environments  after SIGTERM (all started again): ${fmt(r.graceful)}`)
  console.log(`${String(n).padStart(3)} environments  after kill -9 (adopted):            ${fmt(r.crash)}`)
  console.log(`${String(n).padStart(3)} environments  (API health answered after:         ${fmt(healthMs)})`)
  console.log(
    `${String(n).padStart(3)} environments  (reconcile itself, SIGTERM/kill -9:  ${fmt(reconcileMs)})`,
  )
}
