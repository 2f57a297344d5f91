/**
 * bench/edge/kill: what a client sees when part of `palisade serve` dies under load (issue #23). A real `palisade
 * serve` (compiled dist/, isolation on) with W edge workers serves one deployed Node app; wrk sends GETs through the
 * edge (WAF on, the environment's throttle off) for --seconds, three times: nothing killed, the control plane killed
 * with SIGKILL at a third of the run, one edge worker killed with SIGKILL at a third of the run. Prints wrk's totals and
 * its failures (non-2xx answers and socket errors) for each run. The goal: 0 failed requests when the control plane
 * dies, and no more than the killed worker's in-flight requests (at most one per connection it held) when a worker dies.
 * Root only. Run: npm run build && node --import tsx bench/edge/kill.ts [--seconds 30] [--connections 32] [--workers 2]
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { eventually } from '../../src/deploy/testing.js'
import {
  commitVersion,
  controlPlanePid,
  createCrashRig,
  killControlPlane,
  workersStatus,
  type CrashRig,
} from '../../test/crash/harness.js'

const args = process.argv.slice(2)
const arg = (name: string, fallback: string): string => {
  const i = args.indexOf(name)
  return i >= 0 ? (args[i + 1] ?? fallback) : fallback
}
const SECONDS = Number(arg('--seconds', '30'))
const CONNECTIONS = Number(arg('--connections', '32'))
const WORKERS = Number(arg('--workers', '2'))
if (process.getuid?.() !== 0) throw new Error('bench/edge/kill runs as root (isolation on, as in production)')

const run = promisify(execFile)
const cleanups: Array<() => unknown> = []

interface LoadResult {
  requests: number
  rps: number
  non2xx: number
  socketErrors: number
  p99: string
}

/** wrk for SECONDS against the edge; `during` runs a third of the way in. */
async function load(
  rig: CrashRig,
  host: string,
  during?: () => Promise<string>,
): Promise<LoadResult & { note: string }> {
  const wrk = run(
    'wrk',
    [
      `-t2`,
      `-c${CONNECTIONS}`,
      `-d${SECONDS}s`,
      '--latency',
      '-H',
      `Host: ${host}`,
      '-H',
      'User-Agent: bench/1.0',
      '-H',
      'Accept: text/plain',
      `http://127.0.0.1:${rig.edgePort}/`,
    ],
    { maxBuffer: 1 << 20 },
  )
  let note = ''
  if (during) {
    await new Promise((r) => setTimeout(r, (SECONDS * 1000) / 3))
    note = await during()
  }
  const { stdout } = await wrk
  const num = (re: RegExp): number => Number(re.exec(stdout)?.[1] ?? 0)
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout)
  return {
    requests: num(/(\d+) requests in/),
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    non2xx: num(/Non-2xx or 3xx responses: (\d+)/),
    socketErrors: errors ? errors.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
    p99: /\s99%\s+(\S+)/.exec(stdout)?.[1] ?? '?',
    note,
  }
}

try {
  const rig = await createCrashRig(
    { after: (fn: () => unknown) => cleanups.push(fn) },
    { edgeWorkers: WORKERS },
  )
  await rig.start()
  const { envId, host } = await rig.bootstrap()
  commitVersion(rig, 'k1')
  const deployed = await rig.waitDeployment((await rig.deploy(envId))['id'] as string, 120_000)
  if (deployed['status'] !== 'succeeded') throw new Error(`deploy failed: ${JSON.stringify(deployed)}`)
  // One client address sends all the load: the per-client throttle (100/s by default) would answer 429s.
  const patched = await rig.api('PATCH', `/v1/environments/${envId}`, { throttle: 'off' })
  if (patched.status !== 200) throw new Error(`throttle off: ${JSON.stringify(patched.json)}`)
  await eventually(async () => ((await rig.edge(host)).status === 200 ? true : undefined), 30_000, 'the app')
  await load(rig, host) // warm-up (JIT, connections to the app)

  const rows: Array<[string, LoadResult & { note: string }]> = []
  const before = workersStatus(rig).workers
  const quiet = await load(rig, host)
  const served = workersStatus(rig).workers.map(
    (w) => w.requests - (before.find((b) => b.pid === w.pid)?.requests ?? 0),
  )
  const total = served.reduce((a, b) => a + b, 0)
  quiet.note = `requests per worker: ${served.map((n) => `${Math.round((100 * n) / total)} %`).join(', ')}`
  rows.push(['nothing killed', quiet])
  rows.push([
    'control plane killed (SIGKILL)',
    await load(rig, host, async () => {
      const t0 = Date.now()
      await killControlPlane(rig, controlPlanePid(rig))
      return `new control plane answering after ${Date.now() - t0} ms`
    }),
  ])
  rows.push([
    'one edge worker killed (SIGKILL)',
    await load(rig, host, async () => {
      const victim = workersStatus(rig).workers[0]!
      // The client connections the victim holds: each can lose at most its one request in flight.
      const { stdout: sockets } = await run('ss', [
        '-Htnp',
        'state',
        'established',
        `sport = :${rig.edgePort}`,
      ])
      const held = sockets.split('\n').filter((l) => l.includes(`pid=${victim.pid},`)).length
      process.kill(victim.pid, 'SIGKILL')
      const t0 = Date.now()
      await eventually(
        () => {
          const ready = workersStatus(rig).workers.filter((w) => w.ready)
          return ready.length === WORKERS && !ready.some((w) => w.pid === victim.pid) ? true : undefined
        },
        120_000,
        'a replacement worker',
      )
      return `replacement worker ready after ${Date.now() - t0} ms; the victim held ${held} of the ${CONNECTIONS} connections`
    }),
  ])
  console.log(
    `palisade serve, ${WORKERS} edge workers, wrk -t2 -c${CONNECTIONS} -d${SECONDS}s GET / through the edge (WAF on)\n`,
  )
  console.log('| run | requests | rps | p99 | non-2xx | socket errors | failed | note |')
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |')
  for (const [name, r] of rows)
    console.log(
      `| ${name} | ${r.requests} | ${r.rps.toFixed(0)} | ${r.p99} | ${r.non2xx} | ${r.socketErrors} | ${r.non2xx + r.socketErrors} | ${r.note} |`,
    )
} finally {
  for (const fn of cleanups.reverse()) await fn()
}
