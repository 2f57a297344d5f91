import { spawn, type ChildProcess } from 'node:child_process'
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { TestContext } from 'node:test'
import type { EdgeWorkersStatus } from '../../src/edge/index.js'
import { createProcessRecords, inspectProcesses, sandboxName } from '../../src/deploy/index.js'
import { createRepo, eventually, nodeApp, type TestRepo } from '../../src/deploy/testing.js'
import { httpGet } from '../deploy-helpers.js'
import { removeSandboxes } from '../services-helpers.js'
import { OWNER } from '../support/platform.js'
import { cliEntry, freePort, REPO, runCli } from '../support/processes.js'

export interface Json {
  [k: string]: unknown
}

/**
 * A data directory that several real `palisade serve` processes use one after the other, each on the same API
 * and edge ports, any of them killed with SIGKILL (from outside, or by itself at a crash point).
 */
export interface CrashRig {
  readonly dir: string
  readonly dataDir: string
  readonly repo: TestRepo
  readonly edgePort: number
  readonly httpsPort: number
  readonly apiUrl: string
  /** How long each start took until /v1/health answered, ms (where a crash test's time goes). */
  readonly startMs: readonly number[]
  /** The output of every control plane the rig started, oldest first (for failure messages). */
  outputs(): string
  /** Starts `palisade serve`; with `crashAt` it kills itself there. Resolves once /v1/health answers. */
  start(crashAt?: string): Promise<Server>
  api(method: string, url: string, body?: unknown): Promise<{ status: number; json: Json }>
  /** Sets up the owner, workspace `acme`, project `shop` (the rig's repo) and environment `main` (first start). */
  bootstrap(): Promise<{ envId: string; host: string }>
  /** One more environment of project `shop` (after `bootstrap`), with `settings` (runtime, window…). */
  addEnvironment(name: string, settings?: Json): Promise<{ envId: string; host: string }>
  deploy(envId: string): Promise<Json>
  waitDeployment(id: string, timeoutMs?: number): Promise<Json>
  /** What the edge answers for the environment's host (status and body). */
  edge(host: string): Promise<{ status: number; body: string }>
  cli(args: string[], env?: Record<string, string>): ReturnType<typeof runCli>
  /** The owner's authorization header (raw requests: archive uploads and downloads). */
  auth(): Record<string, string>
}

export interface Server {
  readonly child: ChildProcess
  output(): string
  /** Resolves with the signal once the process ended. */
  readonly ended: Promise<NodeJS.Signals | null>
  kill9(): Promise<void>
  /** SIGTERM: the platform stops for good. */
  stop(): Promise<void>
}

export async function createCrashRig(
  t: TestContext | { after(fn: () => unknown): void },
  options: {
    readonly edgeWorkers?: number
    /** Run node@… apps on their pinned Node.js version (runtime updates); default off (the host's node). */
    readonly runtimePinning?: boolean
    /** More environment variables for `palisade serve` (PALISADE_REDIS_URL …). */
    readonly env?: Readonly<Record<string, string>>
  } = {},
): Promise<CrashRig> {
  const dir = mkdtempSync(path.join(tmpdir(), 'palisade-crash-'))
  chmodSync(dir, 0o711)
  const dataDir = path.join(dir, 'data')
  const repo = createRepo(path.join(dir, 'shop'))
  const edgePort = await freePort()
  const httpsPort = await freePort()
  const apiPort = await freePort()
  const apiUrl = `http://127.0.0.1:${apiPort}`
  let token = ''
  let projectId = ''
  const envIds: string[] = []
  let current: Server | null = null
  const startMs: number[] = []
  const servers: Server[] = []
  t.after(async () => {
    await current?.stop()
    removeSandboxes(envIds)
    rmSync(dir, { recursive: true, force: true })
  })

  const start = async (crashAt?: string): Promise<Server> => {
    const child = spawn(process.execPath, [...cliEntry(), 'serve', '--api-listen', `127.0.0.1:${apiPort}`], {
      cwd: REPO,
      env: {
        PATH: process.env['PATH'] ?? '',
        PALISADE_LOG_LEVEL: 'warn',
        PALISADE_RUNTIME_PINNING: options.runtimePinning === true ? 'on' : 'off',
        PALISADE_DATA_DIR: dataDir,
        PALISADE_MASTER_KEY: 'c'.repeat(64),
        PALISADE_EDGE_HTTP_LISTEN: `127.0.0.1:${edgePort}`,
        PALISADE_EDGE_HTTPS_LISTEN: `127.0.0.1:${httpsPort}`,
        PALISADE_EDGE_WORKERS: String(options.edgeWorkers ?? 1),
        PALISADE_GIT_LOCAL_ROOTS: dir,
        ...options.env,
        ...(crashAt ? { PALISADE_TEST_HOOKS: '1', PALISADE_TEST_CRASH_AT: crashAt } : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()))
    const ended = new Promise<NodeJS.Signals | null>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve(child.signalCode)
      child.once('exit', (_code, signal) => resolve(signal))
    })
    const server: Server = {
      child,
      output: () => out,
      ended,
      async kill9() {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
        await ended
      },
      async stop() {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
        await ended
      },
    }
    current = server
    servers.push(server)
    // Generous: a loaded test machine starts a supervisor, a control plane and edge workers slowly.
    const spawnedAt = Date.now()
    const deadline = spawnedAt + 120_000
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) return server
      try {
        if ((await fetch(`${apiUrl}/v1/health`)).ok) {
          startMs.push(Date.now() - spawnedAt)
          return server
        }
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`server did not start: ${out}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }

  const api = async (
    method: string,
    url: string,
    body?: unknown,
  ): Promise<{ status: number; json: Json }> => {
    const res = await fetch(apiUrl + url, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    const text = await res.text()
    return { status: res.status, json: (text ? JSON.parse(text) : null) as Json }
  }

  const rig: CrashRig = {
    dir,
    dataDir,
    repo,
    edgePort,
    httpsPort,
    apiUrl,
    startMs,
    outputs: () => servers.map((s, i) => `--- start ${i + 1}\n${s.output()}`).join('\n'),
    start,
    api,
    async bootstrap() {
      const setupToken = readFileSync(path.join(dataDir, 'setup-token'), 'utf8').trim()
      const setup = await api('POST', '/v1/setup', { token: setupToken, ...OWNER, workspace: 'acme' })
      if (setup.status !== 201) throw new Error(JSON.stringify(setup.json))
      token = (await api('POST', '/v1/sessions', OWNER)).json['token'] as string
      const project = await api('POST', '/v1/workspaces/acme/projects', {
        name: 'shop',
        repository: repo.dir,
      })
      if (project.status !== 201) throw new Error(JSON.stringify(project.json))
      projectId = project.json['id'] as string
      return rig.addEnvironment('main')
    },
    async addEnvironment(name, settings = {}) {
      const env = await api('POST', `/v1/projects/${projectId}/environments`, { name, ...settings })
      if (env.status !== 201) throw new Error(JSON.stringify(env.json))
      envIds.push(env.json['id'] as string)
      return { envId: env.json['id'] as string, host: env.json['host'] as string }
    },
    async deploy(envId) {
      const d = await api('POST', `/v1/environments/${envId}/deployments`, {})
      if (d.status !== 201) throw new Error(JSON.stringify(d.json))
      return d.json
    },
    async waitDeployment(id, timeoutMs = 60_000) {
      return eventually(
        async () => {
          const d = (await api('GET', `/v1/deployments/${id}`)).json
          return d['status'] === 'succeeded' || d['status'] === 'failed' ? d : undefined
        },
        timeoutMs,
        `deployment ${id}`,
      )
    },
    auth: () => ({ authorization: `Bearer ${token}` }),
    edge: (host) => httpGet(edgePort, host, '/', { 'user-agent': 'crash/1.0', accept: 'text/plain' }),
    cli: (args, env = {}) =>
      runCli(args, {
        PALISADE_API_URL: apiUrl,
        PALISADE_TOKEN: token,
        HOME: dir,
        PALISADE_DATA_DIR: dataDir,
        ...env,
      }),
  }
  return rig
}

/**
 * One kill point: `server` was started armed at `point`; `trigger` runs the operation that reaches it. Waits
 * for the SIGKILL the point fires (90 s at most; a server that was not killed is stopped before the test
 * fails), then starts the next control plane, armed at `armNext` (a point its own start-up never reaches).
 */
export async function crashThenRestart(
  rig: CrashRig,
  server: Server,
  point: string,
  trigger: () => Promise<unknown>,
  armNext?: string,
): Promise<Server> {
  await trigger().catch((err: unknown) => err)
  const signal = await Promise.race([
    server.ended,
    new Promise<string>((r) => setTimeout(() => r('timeout'), 90_000).unref()),
  ])
  if (signal !== 'SIGKILL') {
    await server.kill9()
    throw new Error(`not killed at ${point}: ${server.output().slice(-2000)}`)
  }
  return rig.start(armNext)
}

/** One line for `t.diagnostic`: how many control-plane starts the test made and how long they took. */
export function startSummary(rig: CrashRig): string {
  const total = rig.startMs.reduce((a, b) => a + b, 0)
  return `${rig.startMs.length} control-plane starts, ${total} ms until /v1/health in all (longest ${Math.max(0, ...rig.startMs)} ms)`
}

/** Commits app version `v` to the rig's repository. */
export function commitVersion(rig: CrashRig, v: string): void {
  rig.repo.commit(nodeApp(v))
}

/**
 * The invariants after a restart (issue #19, Acceptance): exactly one app process and one bridge per
 * environment's recorded instance and nothing unrecorded, the status names the release that answers through
 * the edge, no deployment left queued/building/deploying, no maintenance, the audit chain verifies.
 */
export async function checkInvariants(
  rig: CrashRig,
  envId: string,
  host: string,
  versionOfRelease: (n: number) => string,
  opts: { readonly auditVerify?: boolean } = {},
): Promise<{ release: number }> {
  const status = await eventually(
    async () => {
      const s = (await rig.api('GET', `/v1/environments/${envId}/status`)).json
      const p = s['process'] as { state: string } | null
      // Maintenance held by a restore that is being rolled back is lifted once the data is back.
      return p?.state === 'running' && s['maintenance'] === false ? s : undefined
    },
    60_000,
    'a running process, out of maintenance',
  ).catch(async () => {
    throw new Error(
      `not running or left in maintenance: ${JSON.stringify((await rig.api('GET', `/v1/environments/${envId}/status`)).json)}`,
    )
  })
  const release = status['currentRelease'] as number
  if (status['maintenance'] !== false) throw new Error(`maintenance left on: ${JSON.stringify(status)}`)
  // `palisade audit verify` (a CLI process, a second or more on a loaded machine) runs beside the checks below,
  // once the control plane has settled; its failure is reported after theirs.
  const audited = opts.auditVerify === false ? Promise.resolve() : auditVerifies(rig)
  audited.catch(() => undefined)
  const answer = await eventually(
    async () => {
      const a = await rig.edge(host)
      return a.status === -1 ? undefined : a
    },
    // The edge workers a restarted control plane starts take their time on a loaded 2-core machine.
    30_000,
    'the edge to answer',
  )
  if (answer.status !== 200 || !answer.body.startsWith(versionOfRelease(release) + ' '))
    throw new Error(
      `status names release ${release} (${versionOfRelease(release)}), the edge answers ${answer.status} ${answer.body}`,
    )
  const deployments = (await rig.api('GET', `/v1/environments/${envId}/deployments`)).json['items'] as Json[]
  const open = deployments.filter((d) => !['succeeded', 'failed'].includes(d['status'] as string))
  if (open.length > 0) throw new Error(`deployments left open: ${JSON.stringify(open)}`)
  for (const d of deployments)
    if (
      d['status'] === 'failed' &&
      !/interrupted by a control-plane restart|failed|refused/.test(String(d['reason']))
    )
      throw new Error(`unexpected failure: ${JSON.stringify(d)}`)
  // Processes: one app and one bridge, both recorded and alive; nothing the platform started left unrecorded.
  const seen = await eventually(
    () => {
      const s = inspectProcesses(createProcessRecords(rig.dataDir), { environmentId: envId })
      const apps = s.live.filter((r) => r.role === 'app')
      const bridges = s.live.filter((r) => r.role === 'bridge')
      return apps.length === 1 && bridges.length === 1 && s.unrecorded.length === 0 ? s : undefined
    },
    10_000,
    'exactly one recorded app and bridge and no unrecorded process',
  ).catch(() => {
    const s = inspectProcesses(createProcessRecords(rig.dataDir), { environmentId: envId })
    throw new Error(`processes do not match: ${JSON.stringify({ live: s.live, unrecorded: s.unrecorded })}`)
  })
  // Counted again without the platform's records or marker: sandboxes running the environment's releases,
  // and bridges serving its sockets, as `ps` would show them.
  const outside = await eventually(
    () => {
      const c = countFromProc(rig.dataDir, envId)
      return c.sandboxes === 1 && c.bridges === 1 ? c : undefined
    },
    10_000,
    'one sandbox and one bridge in /proc',
  ).catch(() => {
    throw new Error(`/proc shows ${JSON.stringify(countFromProc(rig.dataDir, envId))}`)
  })
  void outside
  const app = seen.live.find((r) => r.role === 'app')
  if (app?.release !== release)
    throw new Error(`the running instance runs release ${app?.release}, the status names ${release}`)
  await audited
  return { release }
}

/** `palisade audit verify` of the rig's workspace passes. */
export async function auditVerifies(rig: CrashRig): Promise<void> {
  const verify = await rig.cli(['audit', 'verify', '--workspace', 'acme'])
  if (verify.code !== 0) throw new Error(`audit verify failed: ${verify.stdout}${verify.stderr}`)
}

/** Sandboxes (outermost bwrap) binding a release of the environment, and bridges for its sockets, from /proc. */
export function countFromProc(
  dataDir: string,
  envId: string,
): { sandboxes: number; bridges: number; pids: number[] } {
  const releases = path.join(dataDir, 'envs', envId, 'releases') + '/'
  const sockets = path.join(dataDir, 'sandboxes', sandboxName(envId), 's') + '/'
  let sandboxes = 0
  let bridges = 0
  const pids: number[] = []
  const cmd = (pid: number): string[] => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
    } catch {
      return []
    }
  }
  const parent = (pid: number): number => {
    try {
      const st = readFileSync(`/proc/${pid}/stat`, 'utf8')
      return Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1])
    } catch {
      return 0
    }
  }
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const pid = Number(name)
    const argv = cmd(pid)
    // bubblewrap is started by absolute path (root never looks a program up in a tenant-set PATH).
    const isBwrap = (a: string[]): boolean => a[0] !== undefined && path.basename(a[0]) === 'bwrap'
    if (isBwrap(argv) && argv.some((a) => a.startsWith(releases)) && !isBwrap(cmd(parent(pid)))) {
      sandboxes++
      pids.push(pid)
    }
    if (argv[1] === '-e' && argv.some((a) => a.includes(sockets))) {
      bridges++
      pids.push(pid)
    }
  }
  return { sandboxes, bridges, pids }
}

/** The supervisor's record of the edge workers (`edge-workers.json`: pids, versions, requests served). */
export function workersStatus(rig: CrashRig): EdgeWorkersStatus {
  return JSON.parse(readFileSync(path.join(rig.dataDir, 'edge-workers.json'), 'utf8')) as EdgeWorkersStatus
}

/** The running control plane's pid; 0 while a new one has not written its record yet. */
export function controlPlanePid(rig: CrashRig): number {
  try {
    return (JSON.parse(readFileSync(path.join(rig.dataDir, 'serve.pid'), 'utf8')) as { pid: number }).pid
  } catch {
    return 0
  }
}

/** kill -9 of the control plane `cp`; resolves once the supervisor's new one answers the API. */
export async function killControlPlane(rig: CrashRig, cp: number): Promise<void> {
  process.kill(cp, 'SIGKILL')
  await eventually(
    async () => {
      const now = controlPlanePid(rig)
      if (now === cp || now === 0) return undefined
      const h = await rig.api('GET', '/v1/health').catch(() => null)
      return h?.status === 200 ? true : undefined
    },
    240_000,
    'a new control plane',
  )
}
