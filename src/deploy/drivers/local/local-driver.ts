import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import path from 'node:path'
import { PassThrough } from 'node:stream'
import type { TenantFiles } from '../../../shared/tenant-files.js'
import type {
  DeployDriver,
  ProcessLimits,
  EgressSetting,
  IsolationReport,
  OutputSink,
  ProcessSpec,
  ProcessState,
  ProcessStatus,
  RunningProcess,
  RunResult,
  RunSpec,
  Upstream,
} from '../driver.js'
import { bridgeListening, startBridge, type Forward } from './bridge.js'
import { createEgressGateway, type EgressGateway, type Resolver } from './egress-gateway.js'
import { DEFAULT_BUILD_HOSTS, type EgressPolicy } from './egress-policy.js'
import { digestTree, freezeTree } from '../../../shared/frozen-tree.js'
import { createIdentities, type Identity } from './identities.js'
import { ensureNamespace, exec as runTool, hardenDataDir, removeNamespace } from './isolation.js'
import { APP_DIR, HOME_DIR, rootSafeEnv, sandboxArgv, writeAccountFiles, type Mount } from './sandbox.js'
import { createTenantTree, type TenantTree } from './tenant-tree.js'
import { createLimiter, TOOL_LIMITS, unitName } from './limiter.js'
import { closeFds, openOutputFifo } from './output-fifo.js'
import { crashPoint } from '../../../shared/crash-point.js'
import {
  createProcessRecords,
  isAlive,
  processesOfUid,
  SPAWN_MARKER,
  stopPid,
  processStartTime,
  type ProcessRecord,
  type ProcessRole,
} from './process-records.js'
import {
  adoptedHandle,
  childHandle,
  inspectProcesses,
  reapProcesses,
  signalGroup,
  type Handle,
} from './reconcile.js'

export interface Backoff {
  /** First restart delay, ms. */
  readonly initialMs: number
  /** Longest delay, ms. */
  readonly maxMs: number
  /** A process that stayed up this long starts the backoff again from `initialMs`. */
  readonly resetAfterMs: number
}

export interface LocalDriverOptions {
  readonly dataDir: string
  /** Own user, namespaces and sandbox per environment (needs root). */
  readonly isolate: boolean
  /** Sizing limits through cgroups when isolated (default true; false only to measure what they cost). */
  readonly limits?: boolean
  readonly backoff?: Backoff
  readonly onWarning?: (message: string) => void
  /**
   * A PEM file of extra CAs (a TLS-inspecting proxy's): bound read-only at the same path into every tenant
   * process and named in NODE_EXTRA_CA_CERTS, so that `npm ci` in a build trusts what the host trusts.
   */
  readonly extraCaCerts?: string
  /** Hosts builds may reach through the egress gateway (default: the package registries). */
  readonly buildEgressHosts?: readonly string[]
  /** Told of every connection the egress gateway refused. */
  readonly onEgressRefusal?: (environmentId: string, target: string, reason: string) => void
  /** Name resolution for the egress gateway (tests). */
  readonly resolve?: Resolver
}

export const DEFAULT_BACKOFF: Backoff = Object.freeze({
  initialMs: 1_000,
  maxMs: 60_000,
  resetAfterMs: 30_000,
})

/** Limits of a build's output (a release). */
const RELEASE_LIMITS = Object.freeze({ maxBytes: 4 * 1024 ** 3, maxEntries: 500_000 })

const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
/** Apps in a namespace listen on these ports; only the environment's own processes can reach them. */
const SANDBOX_PORT_BASE = 20_000
/** Egress forwarders (the tenant's HTTP_PROXY) listen on these ports inside the namespace. */
const PROXY_PORT_BASE = 30_000
/** The egress forwarder's port inside a build's own network. */
const BUILD_PROXY_PORT = 3128

interface EnvSlot {
  readonly envDir: string
  readonly identity: Identity | null
  readonly ports: Set<number>
  nextPort: number
}

/** TCP ports listening in a network namespace (read from inside it: `/proc/net` is the reader's namespace). */
async function listeningPorts(netns: string): Promise<number[]> {
  if (!existsSync(`/run/netns/${netns}`)) return []
  const r = await runTool([
    'nsenter',
    `--net=/run/netns/${netns}`,
    '--',
    'cat',
    '/proc/net/tcp',
    '/proc/net/tcp6',
  ])
  const ports: number[] = []
  for (const line of r.out.split('\n')) {
    const f = line.trim().split(/\s+/)
    // local_address is HEXIP:HEXPORT; state 0A is LISTEN.
    if (f[3] !== '0A') continue
    const port = parseInt(f[1]?.split(':')[1] ?? '', 16)
    if (Number.isInteger(port)) ports.push(port)
  }
  return ports
}

/** The name of an environment's system user and network namespace: short, stable, not guessable from the name. */
export function sandboxName(environmentId: string): string {
  return 'pal-' + createHash('sha256').update(environmentId).digest('hex').slice(0, 12)
}

async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr ? addr.port : 0
      srv.close(() => resolve(port))
    })
  })
}

function pipeOutput(child: ChildProcess, sink: OutputSink): void {
  child.stdout?.setEncoding('utf8').on('data', (t: string) => sink('stdout', t))
  child.stderr?.setEncoding('utf8').on('data', (t: string) => sink('stderr', t))
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: string | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null)
      return resolve({ code: child.exitCode, signal: child.signalCode })
    child.once('exit', (code, signal) => resolve({ code, signal }))
    child.once('error', () => resolve({ code: null, signal: null }))
  })
}

async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  const done = exited(child)
  signalGroup(child, 'SIGTERM')
  const kill = setTimeout(() => signalGroup(child, 'SIGKILL'), graceMs)
  await done
  clearTimeout(kill)
}

/**
 * Runs environments' processes on this host. As root with `isolate`, every tenant process (app, build,
 * job, and the platform's own tar/rm on tenant directories) runs in the environment's sandbox: its own
 * uid/gid (allocated once, stored), network namespace (the only way out is the egress gateway), and
 * mount, PID, IPC and UTS namespaces showing only its release (read-only), persistent directories,
 * home and a private /tmp. The edge reaches an app through a Unix socket in a root-owned directory.
 * Without root, processes run as the control plane's user on loopback ports (said loudly).
 * Processes never inherit the control plane's environment (it holds the master key).
 */
export function createLocalDriver(options: LocalDriverOptions): DeployDriver {
  const opts = Object.freeze({ ...options, backoff: options.backoff ?? DEFAULT_BACKOFF })
  const slots = new Map<string, EnvSlot>()
  /** Supervised app instances: the pids each holds now. */
  const live = new Map<RunningProcess, () => number[]>()
  const liveEnv = new Map<RunningProcess, string>()
  /** Pids of builds, jobs, tools and their bridges running now. */
  const running = new Set<number>()
  const records = createProcessRecords(opts.dataDir)
  const identities = createIdentities(opts.dataDir)
  const sandboxesDir = path.join(opts.dataDir, 'sandboxes')
  const nameToEnv = new Map<string, string>()
  let gateway: EgressGateway | null = null
  const egressOpen = new Map<string, Promise<string>>()
  const registries: EgressPolicy = { kind: 'allow', hosts: opts.buildEgressHosts ?? DEFAULT_BUILD_HOSTS }
  /** Each environment's policies (absent: apps public, builds the registries). */
  const policies = new Map<string, { app: EgressPolicy; build: EgressPolicy }>()
  const toPolicy = (word: EgressSetting['app'] | EgressSetting['build']): EgressPolicy =>
    word === 'public'
      ? { kind: 'public' }
      : word === 'registries'
        ? registries
        : word === 'none'
          ? { kind: 'allow', hosts: [] }
          : { kind: 'allow', hosts: [...word] }
  const isolation: IsolationReport = opts.isolate
    ? {
        mode: 'namespaces',
        summary:
          'each environment runs as its own system user in its own sandbox (network, mount and PID namespaces); releases are read-only; outbound traffic only through the egress gateway',
      }
    : {
        mode: 'none',
        summary:
          'not running as root: apps run as the control plane user on loopback ports; environments are NOT isolated from each other',
      }

  // ---- sizing (#20): every tenant process enters a cgroup unit of its environment before it runs
  const limiter = createLimiter({
    isolate: opts.isolate,
    ...(opts.limits === false ? { detect: () => ({ ok: false as const, reason: 'turned off' }) } : {}),
    ...(opts.onWarning ? { onWarning: opts.onWarning } : {}),
  })
  let runCounter = 0

  function slotOf(environmentId: string): EnvSlot {
    const slot = slots.get(environmentId)
    if (!slot) throw new Error(`environment ${environmentId} was not prepared`)
    return slot
  }

  const tree: TenantTree = createTenantTree({
    isolate: opts.isolate,
    envDirOf: (envId) => slotOf(envId).envDir,
    identityOf: (envId) => slotOf(envId).identity,
    spawnTool: (envId, argv, mounts, cwd) =>
      spawnSandboxed(
        slotOf(envId),
        argv,
        cwd,
        { ...toolEnv(), ...marker(envId, 'tool', 'tool') },
        mounts,
        null,
        true,
        { unit: unitName('tools'), limits: TOOL_LIMITS },
      ),
  })

  function gatewayOf(): EgressGateway {
    gateway ??= createEgressGateway({
      socketDir: path.join(sandboxesDir, 'egress'),
      onRefusal: (tag, target, reason) => {
        const envId = nameToEnv.get(tag.replace(/-(app|build)$/, ''))
        if (envId !== undefined) opts.onEgressRefusal?.(envId, target, reason)
        opts.onWarning?.(`egress refused for ${tag}: ${target}: ${reason}`)
      },
      ...(opts.resolve ? { resolve: opts.resolve } : {}),
    })
    return gateway
  }

  function egressSocket(identity: Identity, purpose: 'app' | 'build'): Promise<string> {
    const tag = `${identity.name}-${purpose}`
    let p = egressOpen.get(tag)
    if (!p) {
      const envId = nameToEnv.get(identity.name)
      const policy =
        (envId === undefined ? undefined : policies.get(envId)?.[purpose]) ??
        (purpose === 'build' ? registries : { kind: 'public' as const })
      p = gatewayOf().open(tag, policy)
      egressOpen.set(tag, p)
      p.catch(() => egressOpen.delete(tag))
    }
    return p
  }

  function toolEnv(): Record<string, string> {
    return { PATH: SYSTEM_PATH, HOME: '/tmp', LANG: 'C.UTF-8' }
  }

  function baseEnv(
    slot: EnvSlot,
    extra: Readonly<Record<string, string>>,
    binDir?: string,
    proxyPort?: number,
  ): Record<string, string> {
    // The pinned runtime's bin (else the node the control plane runs on) comes first: `node`, and the host's
    // `npm` (a `#!/usr/bin/env node` script), both run on that version.
    const host = path.dirname(process.execPath)
    const proxy =
      proxyPort === undefined
        ? {}
        : {
            HTTP_PROXY: `http://127.0.0.1:${proxyPort}`,
            HTTPS_PROXY: `http://127.0.0.1:${proxyPort}`,
            http_proxy: `http://127.0.0.1:${proxyPort}`,
            https_proxy: `http://127.0.0.1:${proxyPort}`,
            NO_PROXY: 'localhost,127.0.0.1,::1',
            no_proxy: 'localhost,127.0.0.1,::1',
          }
    const env: Record<string, string> = {
      PATH: `${binDir === undefined ? host : `${binDir}:${host}`}:${SYSTEM_PATH}`,
      HOME: slot.identity ? HOME_DIR : path.join(slot.envDir, 'home'),
      LANG: 'C.UTF-8',
      ...proxy,
      ...(opts.extraCaCerts === undefined ? {} : { NODE_EXTRA_CA_CERTS: opts.extraCaCerts }),
      ...extra,
    }
    // A pinned runtime stays first even if the environment sets PATH itself.
    if (binDir !== undefined && extra['PATH'] !== undefined) env['PATH'] = `${binDir}:${extra['PATH']}`
    return env
  }

  /** What every tenant process of the environment sees besides the system: home, runtimes, services. */
  function commonMounts(slot: EnvSlot): Mount[] {
    const mounts: Mount[] = [{ source: path.join(slot.envDir, 'home'), target: HOME_DIR, writable: true }]
    const runtimes = path.join(opts.dataDir, 'runtimes')
    if (existsSync(runtimes)) mounts.push({ source: runtimes, target: runtimes, writable: false })
    const hostNode = path.dirname(process.execPath)
    if (!hostNode.startsWith('/usr/')) mounts.push({ source: hostNode, target: hostNode, writable: false })
    if (opts.extraCaCerts !== undefined)
      mounts.push({ source: opts.extraCaCerts, target: opts.extraCaCerts, writable: false })
    return mounts
  }

  /** The app's own view: the release at /app (read-only), persistent directories over it, its services. */
  function appMounts(
    slot: EnvSlot,
    releaseDir: string,
    persistent: readonly string[],
    writable: boolean,
  ): Mount[] {
    // What a sandbox shows at /app is one of the environment's own releases or build directories, never
    // anything else of the host (a caller passing `/` would show the whole file system).
    const inside = path.relative(slot.envDir, path.resolve(releaseDir))
    if (slot.identity && (inside === '' || inside.startsWith('..') || path.isAbsolute(inside)))
      throw new Error(`${releaseDir} is not a directory of the environment: nothing was started`)
    const mounts = [{ source: releaseDir, target: APP_DIR, writable }, ...commonMounts(slot)]
    for (const d of persistent)
      mounts.push({
        source: path.join(slot.envDir, 'shared', d),
        target: path.posix.join(APP_DIR, d),
        writable: true,
      })
    // Service sockets keep their host path (it is in the injected URLs). Read-only: the app connects to
    // the sockets (which a read-only mount allows) but cannot plant anything in a service's directory.
    const services = path.join(slot.envDir, 'services')
    if (existsSync(services)) mounts.push({ source: services, target: services, writable: false })
    return mounts
  }

  function spawnSandboxed(
    slot: EnvSlot,
    argv: readonly string[],
    cwd: string,
    env: Record<string, string>,
    mounts: readonly Mount[],
    netns: string | null,
    dieWithParent: boolean,
    limit?: { readonly unit: string; readonly limits: ProcessLimits | undefined },
    stdio: StdioOptions = ['pipe', 'pipe', 'pipe'],
  ): ChildProcess {
    const id = slot.identity
    const child = id
      ? spawnInSandbox(slot, id, argv, cwd, env, mounts, netns, dieWithParent, stdio, limit)
      : spawn(argv[0] as string, argv.slice(1), { cwd, env, detached: true, stdio, shell: false })
    const pid = child.pid
    if (pid !== undefined) {
      running.add(pid)
      child.once('exit', () => running.delete(pid))
    }
    return child
  }

  function spawnInSandbox(
    slot: EnvSlot,
    id: Identity,
    argv: readonly string[],
    cwd: string,
    env: Record<string, string>,
    mounts: readonly Mount[],
    netns: string | null,
    dieWithParent: boolean,
    stdio: StdioOptions,
    limit?: { readonly unit: string; readonly limits: ProcessLimits | undefined },
  ): ChildProcess {
    const files = path.join(sandboxesDir, id.name)
    const sandboxed = sandboxArgv({
      identity: id,
      netns: netns ?? id.name,
      mounts,
      cwd,
      argv,
      dieWithParent,
      etcDir: files,
    })
    const full =
      limit?.limits === undefined ? sandboxed : limiter.wrap(id.name, limit.unit, limit.limits, sandboxed)
    return spawn(full[0] as string, full.slice(1), {
      cwd: '/',
      env: rootSafeEnv(env),
      detached: true,
      stdio,
      shell: false,
    })
  }

  function allocatePort(
    slot: EnvSlot,
    base = SANDBOX_PORT_BASE,
    busy: ReadonlySet<number> = new Set(),
  ): number {
    for (let i = 0; i < 10_000; i++) {
      const port = base + (slot.nextPort++ % 10_000)
      if (!slot.ports.has(port) && !busy.has(port)) {
        slot.ports.add(port)
        return port
      }
    }
    throw new Error('no free port in the environment')
  }

  /** A bridge for the duration of one run: the egress forwarder of a build or job. */
  async function withEgressBridge<T>(
    slot: EnvSlot,
    envId: string,
    runId: string,
    purpose: 'app' | 'build',
    netns: string,
    port: number,
    work: () => Promise<T>,
  ): Promise<T> {
    const id = slot.identity
    if (!id) return work()
    const socket = await egressSocket(id, purpose)
    const bridge = startBridge(
      netns,
      [{ kind: 'out', port, socket }],
      process.execPath,
      true,
      marker(envId, runId, 'bridge'),
    )
    bridge.stderr?.resume()
    const about = { environmentId: envId, instanceId: runId, role: 'bridge' as const }
    const pid = bridge.pid
    if (pid !== undefined) {
      running.add(pid)
      records.write({ ...about, pid, release: null, deploymentId: null, ports: [port], socketPath: null })
    }
    // The run starts once its forwarder listens: its first connection out would otherwise be refused.
    await bridgeListening(bridge, 5_000)
    try {
      return await work()
    } finally {
      await stopChild(bridge, 1_000)
      if (pid !== undefined) running.delete(pid)
      records.remove(about)
    }
  }

  /** An environment the driver has not seen since it started (a backup before any deploy) is prepared first. */
  async function ready(environmentId: string): Promise<void> {
    if (!slots.has(environmentId))
      await driver.prepareEnvironment(environmentId, path.join(opts.dataDir, 'envs', environmentId))
  }

  const files: TenantFiles = {
    makeDir: async (envId, rel) => {
      await ready(envId)
      await tree.files.makeDir(envId, rel)
    },
    pack: (envId, rel) => {
      const stream = new PassThrough()
      const done = ready(envId).then(async () => {
        const inner = tree.files.pack(envId, rel)
        inner.stream.pipe(stream)
        await inner.done
      })
      done.catch((err: unknown) => stream.destroy(err instanceof Error ? err : new Error(String(err))))
      return { stream, done }
    },
    unpack: async (envId, rel, input) => {
      await ready(envId)
      await tree.files.unpack(envId, rel, input)
    },
    remove: async (envId, rel) => {
      await ready(envId)
      await tree.files.remove(envId, rel)
    },
  }

  /** The marker of every process spawned for an environment (found again by `/proc` scans after a crash). */
  const marker = (envId: string, instanceId: string, role: ProcessRole): Record<string, string> => ({
    [SPAWN_MARKER]: `${records.owner}:${envId}:${instanceId}:${role}`,
  })

  /** Pids of the processes this control plane supervises now (never reaped). */
  function ownPids(): Set<number> {
    const out = new Set<number>(running)
    for (const pidsOf of live.values()) for (const pid of pidsOf()) out.add(pid)
    return out
  }

  /**
   * Ports that may not be handed out in an environment's namespace: those its live recorded processes hold
   * (a previous control plane's, even before they are reaped) and those bound there now.
   */
  async function busyPorts(slot: EnvSlot, netns: string): Promise<Set<number>> {
    const busy = new Set<number>()
    const envId = [...slots.entries()].find(([, s]) => s === slot)?.[0]
    if (envId !== undefined)
      for (const r of records.list(envId)) if (isAlive(r)) for (const p of r.ports) busy.add(p)
    for (const p of await listeningPorts(netns)) busy.add(p)
    return busy
  }

  /**
   * Runs an app instance under supervision (restart with backoff), or takes over one a previous control
   * plane started (`adopted`: its app and bridge, both alive). Its record is written before it counts as
   * started and removed when it is stopped.
   */
  async function runInstance(
    spec: ProcessSpec,
    adopted: { readonly app: ProcessRecord; readonly bridge: ProcessRecord } | null,
  ): Promise<RunningProcess> {
    const slot = slotOf(spec.environmentId)
    const id = slot.identity
    const envId = spec.environmentId
    // Checked before anything is allocated or started (a refused start leaves no bridge, port or FIFO).
    const mounts = appMounts(slot, spec.cwd, spec.persistentDirs ?? [], false)
    let port: number
    let upstream: Upstream
    let proxyPort: number | undefined
    let forwards: Forward[] = []
    if (adopted) {
      const [p, q] = adopted.bridge.ports as [number, number]
      port = p
      proxyPort = q
      upstream = { socketPath: adopted.bridge.socketPath as string }
      slot.ports.add(port).add(proxyPort)
    } else if (id) {
      const busy = await busyPorts(slot, id.name)
      port = allocatePort(slot, SANDBOX_PORT_BASE, busy)
      proxyPort = allocatePort(slot, PROXY_PORT_BASE, busy)
      const socketPath = path.join(sandboxesDir, id.name, 's', `${spec.instanceId}.sock`)
      upstream = { socketPath }
      forwards = [
        { kind: 'in', socket: socketPath, port },
        { kind: 'out', port: proxyPort, socket: await egressSocket(id, 'app') },
      ]
    } else {
      port = await freeLoopbackPort()
      upstream = { host: '127.0.0.1', port }
    }
    const about = {
      environmentId: envId,
      instanceId: spec.instanceId,
      release: spec.release ?? null,
      deploymentId: spec.deploymentId ?? null,
      ports: proxyPort === undefined ? [port] : [port, proxyPort],
    }
    // Isolated apps write to a FIFO the bridge also holds: they survive a crash of the control plane.
    const fifo = id
      ? openOutputFifo(records.fifoPath(envId, spec.instanceId), (s, t) => spec.onOutput(s, t))
      : null
    let bridge: Handle | null = null
    if (adopted) {
      bridge = adoptedHandle(adopted.bridge)
    } else if (id && fifo) {
      const holder = fifo.holderFd()
      const b = startBridge(
        id.name,
        forwards,
        process.execPath,
        false,
        marker(envId, spec.instanceId, 'bridge'),
        holder,
      )
      closeFds(holder)
      pipeOutput(b, (s, t) => spec.onOutput(s, `[bridge] ${t}`))
      bridge = childHandle(b)
      if (b.pid !== undefined)
        records.write({
          ...about,
          role: 'bridge',
          pid: b.pid,
          socketPath: 'socketPath' in upstream ? upstream.socketPath : null,
        })
    }
    const env = baseEnv(
      slot,
      {
        ...spec.env,
        PORT: String(port),
        PALISADE_INSTANCE: spec.instanceId,
        ...marker(envId, spec.instanceId, 'app'),
      },
      spec.binDir,
      proxyPort,
    )

    let state: ProcessState = adopted ? 'running' : 'starting'
    let restarts = 0
    let attempt = 0
    let current: Handle
    let startedAt = Date.now()
    let lastExit: ProcessStatus['lastExit'] = null
    let timer: NodeJS.Timeout | null = null
    let nextAt: number | null = null
    let stopping = false
    const unit = unitName('app', spec.instanceId)
    let limits = spec.limits
    let oomKills = 0
    let lastOomAt: string | null = null
    let resolveFirst!: (v: { code: number | null; signal: string | null }) => void
    const firstExit = new Promise<{ code: number | null; signal: string | null }>((r) => (resolveFirst = r))

    const watch = (h: Handle): void => {
      void h.exited.then(({ code, signal }) => {
        lastExit = { code, signal, at: new Date().toISOString() }
        // The kernel's OOM counter of the instance's cgroup tells a memory kill from any other SIGKILL.
        const ooms = id ? limiter.oomKills(id.name, unit) : 0
        if (ooms > oomKills) {
          oomKills = ooms
          lastOomAt = lastExit.at
          spec.onOutput(
            'stderr',
            `[palisade] out of memory: the instance used more than its ${Math.round((limits?.memoryBytes ?? 0) / 1024 ** 2)} MB limit and the kernel killed it\n`,
          )
        }
        resolveFirst({ code, signal })
        if (stopping) return
        records.remove({ ...about, role: 'app' })
        state = 'crashed'
        if (Date.now() - startedAt >= opts.backoff.resetAfterMs) attempt = 0
        const delay = Math.min(opts.backoff.maxMs, opts.backoff.initialMs * 2 ** attempt)
        attempt++
        spec.onOutput(
          'stderr',
          `[palisade] process exited (code ${code ?? '-'}, signal ${signal ?? '-'}); restarting in ${delay} ms\n`,
        )
        state = 'backoff'
        nextAt = Date.now() + delay
        timer = setTimeout(() => {
          timer = null
          nextAt = null
          if (stopping) return
          restarts++
          try {
            launch()
          } catch (err) {
            opts.onWarning?.(
              `restarting ${spec.instanceId} failed: ${err instanceof Error ? err.message : 'error'}`,
            )
          }
        }, delay)
        timer.unref()
      })
    }

    const launch = (): void => {
      startedAt = Date.now()
      const w = fifo ? fifo.writerFd() : null
      const child = spawnSandboxed(
        slot,
        spec.argv,
        id ? APP_DIR : spec.cwd,
        env,
        mounts,
        null,
        false,
        { unit, limits },
        w === null ? undefined : ['pipe', w, w],
      )
      closeFds(w)
      child.stdin?.end()
      if (!fifo) pipeOutput(child, spec.onOutput)
      current = childHandle(child)
      child.once('spawn', () => {
        if (!stopping) state = 'running'
      })
      if (child.pid !== undefined) records.write({ ...about, role: 'app', pid: child.pid, socketPath: null })
      watch(current)
    }

    if (adopted) {
      current = adoptedHandle(adopted.app)
      watch(current)
    } else {
      try {
        launch()
      } catch (err) {
        // No record, no process: the start failed as a whole.
        await bridge?.stop(1_000)
        records.remove({ ...about, role: 'bridge' })
        fifo?.remove()
        throw err
      }
    }

    const proc: RunningProcess = {
      instanceId: spec.instanceId,
      upstream,
      firstExit,
      status: () => ({
        instanceId: spec.instanceId,
        state,
        restarts,
        pid: state === 'running' || state === 'starting' ? (current.pid ?? null) : null,
        lastExit,
        nextRestartInMs: nextAt === null ? null : Math.max(0, nextAt - Date.now()),
        usage: id && state === 'running' ? limiter.usage(id.name, unit) : null,
        oomKills,
        lastOomAt,
      }),
      async setLimits(next) {
        // A process started without limits has no unit to update (only the deployer starts apps, always with limits).
        const had = limits !== undefined
        limits = next // a restart uses them even when the running unit refuses them now
        if (id && had) limiter.update(id.name, unit, next)
      },
      async stop(graceMs) {
        if (stopping) return
        stopping = true
        if (timer) clearTimeout(timer)
        await Promise.all([current.stop(graceMs), bridge?.stop(graceMs)])
        if (id) await limiter.release(id.name, unit)
        state = 'stopped'
        if ('socketPath' in upstream) rmSync(upstream.socketPath, { force: true })
        slot.ports.delete(port)
        if (proxyPort !== undefined) slot.ports.delete(proxyPort)
        records.remove({ ...about, role: 'app' })
        records.remove({ ...about, role: 'bridge' })
        fifo?.remove()
        live.delete(proc)
        liveEnv.delete(proc)
      },
    }
    live.set(proc, () => [current.pid, bridge?.pid].filter((p): p is number => p !== undefined))
    liveEnv.set(proc, envId)
    return proc
  }

  const driver: DeployDriver = {
    name: 'local',
    isolation,
    limits: limiter.report,
    files,

    serviceLauncher(environmentId, serviceId, limits) {
      const id = slots.get(environmentId)?.identity ?? identities.find(environmentId)
      if (!id || limiter.report.mode === 'none') return null
      return limiter.wrap(id.name, unitName('svc', serviceId), limits, [])
    },

    setServiceLimits(environmentId, limits) {
      const id = slots.get(environmentId)?.identity ?? identities.find(environmentId)
      if (id) limiter.updateKind(id.name, 'svc', limits)
    },

    async prepareEnvironment(environmentId, envDir) {
      let identity: Identity | null = null
      if (opts.isolate) {
        // Without bubblewrap no tenant process may start: failing is the safe default.
        if (!existsSync('/usr/bin/bwrap'))
          throw new Error(
            'isolation needs bubblewrap (Debian: apt-get install bubblewrap); nothing was started',
          )
        hardenDataDir(opts.dataDir, opts.onWarning)
        const name = sandboxName(environmentId)
        identity = await identities.ensure(environmentId, name)
        nameToEnv.set(name, environmentId)
        await ensureNamespace(name)
        await ensureNamespace(`${name}-b`)
        writeAccountFiles(path.join(sandboxesDir, name), identity)
        mkdirSync(path.join(sandboxesDir, name, 's'), { recursive: true, mode: 0o700 })
      }
      const prior = slots.get(environmentId)
      slots.set(environmentId, {
        envDir,
        identity,
        ports: prior?.ports ?? new Set(),
        nextPort: prior?.nextPort ?? 0,
      })
      tree.layout(envDir, identity)
      await tree.files.makeDir(environmentId, 'home')
    },

    async setEgress(environmentId, setting) {
      const next = { app: toPolicy(setting.app), build: toPolicy(setting.build) }
      const prior = policies.get(environmentId)
      if (prior && JSON.stringify(prior) === JSON.stringify(next)) return
      policies.set(environmentId, next)
      // Open sockets take the new policy at once (the bridges connect anew for every connection).
      const name = sandboxName(environmentId)
      for (const purpose of ['app', 'build'] as const) {
        const tag = `${name}-${purpose}`
        if (egressOpen.has(tag)) {
          const reopened = gatewayOf().open(tag, next[purpose])
          egressOpen.set(tag, reopened)
          await reopened
        }
      }
    },

    identityOf(environmentId) {
      const id = slots.get(environmentId)?.identity ?? identities.find(environmentId)
      return id ? { uid: id.uid, gid: id.gid } : null
    },

    serviceSandbox(environmentId) {
      const slot = slotOf(environmentId)
      const id = slot.identity
      if (!id) return null
      // Servers and their tools see the services directory at its host path: their configuration,
      // sockets and the variables apps receive all name it. Nothing else of the platform is visible.
      const services = path.join(slot.envDir, 'services')
      const files = path.join(sandboxesDir, id.name)
      const mounts: Mount[] = [{ source: services, target: services, writable: true }]
      // The control plane's own Node (socket forwarders) when it is not the system's.
      const hostNode = path.dirname(process.execPath)
      if (!hostNode.startsWith('/usr/')) mounts.push({ source: hostNode, target: hostNode, writable: false })
      return (argv, o) =>
        sandboxArgv({
          identity: id,
          netns: id.name,
          mounts,
          cwd: o.cwd,
          argv,
          dieWithParent: !o.daemon,
          etcDir: files,
        })
    },

    async freezeRelease(environmentId, buildRel, target) {
      const slot = slotOf(environmentId)
      const packed = tree.files.pack(environmentId, buildRel)
      await Promise.all([
        packed.done,
        freezeTree(packed.stream, target, {
          gid: slot.identity?.gid ?? null,
          maxBytes: RELEASE_LIMITS.maxBytes,
          maxEntries: RELEASE_LIMITS.maxEntries,
        }),
      ])
    },

    digestRelease: (dir) => digestTree(dir),

    async removeEnvironment(environmentId) {
      for (const [proc, envId] of [...liveEnv]) if (envId === environmentId) await proc.stop(2_000)
      // What a previous control plane started for it and never handed over, recorded or only marked.
      await reapProcesses(records, { keep: () => false, environmentId, exclude: ownPids(), graceMs: 2_000 })
      const name = sandboxName(environmentId)
      if (opts.isolate) {
        // Nothing may run as the user when it goes (a uid is never reused, but a process would keep it).
        const ident = identities.find(environmentId)
        if (ident)
          for (const pid of processesOfUid(ident.uid)) await stopPid(pid, processStartTime(pid), 2_000)
        await gateway?.close(`${name}-app`)
        await gateway?.close(`${name}-build`)
        egressOpen.delete(`${name}-app`)
        egressOpen.delete(`${name}-build`)
        await removeNamespace(name)
        await removeNamespace(`${name}-b`)
        await identities.remove(environmentId)
        await limiter.removeGroup(name)
        rmSync(path.join(sandboxesDir, name), { recursive: true, force: true })
      }
      records.removeEnvironment(environmentId)
      slots.delete(environmentId)
      nameToEnv.delete(name)
    },

    start: (spec: ProcessSpec): Promise<RunningProcess> => runInstance(spec, null),

    async recordedInstances() {
      if (!opts.isolate) return []
      const own = ownPids()
      const seen = inspectProcesses(records, { exclude: own })
      const bridges = new Set(
        seen.live.filter((r) => r.role === 'bridge').map((r) => `${r.environmentId}/${r.instanceId}`),
      )
      return seen.live
        .filter(
          (r) => r.role === 'app' && !own.has(r.pid) && bridges.has(`${r.environmentId}/${r.instanceId}`),
        )
        .map((r) => ({
          environmentId: r.environmentId,
          instanceId: r.instanceId,
          release: r.release,
          deploymentId: r.deploymentId,
          startedAt: r.startedAt,
        }))
    },

    async adopt(spec) {
      const recs = records
        .list(spec.environmentId)
        .filter((r) => r.instanceId === spec.instanceId && isAlive(r))
      const app = recs.find((r) => r.role === 'app')
      const bridge = recs.find((r) => r.role === 'bridge')
      if (opts.isolate && app && bridge && bridge.socketPath !== null && bridge.ports.length === 2)
        return runInstance(spec, { app, bridge })
      // Half an instance (its bridge or its app died with the control plane): stopped, started afresh.
      for (const r of recs) await stopPid(r.pid, r.startTime, 2_000)
      for (const r of recs) records.remove(r)
      return null
    },

    async reap(keep, environmentId) {
      return reapProcesses(records, {
        // Service servers are the services capability's (stopped in order by it, checked by its server guard).
        keep: (r) => r.role === 'service' || keep.has(r.instanceId),
        exclude: ownPids(),
        graceMs: 2_000,
        ...(environmentId === undefined ? {} : { environmentId }),
      })
    },

    async run(spec: RunSpec): Promise<RunResult> {
      const slot = slotOf(spec.environmentId)
      const id = slot.identity
      const build = spec.network === 'build'
      const netns = id ? (build ? `${id.name}-b` : id.name) : null
      const mounts = appMounts(slot, spec.cwd, build ? [] : (spec.persistentDirs ?? []), build)
      const proxyPort = id
        ? build
          ? BUILD_PROXY_PORT
          : allocatePort(slot, PROXY_PORT_BASE, await busyPorts(slot, id.name))
        : undefined
      const unit = unitName('run', `${Date.now().toString(36)}-${++runCounter}`)
      const runId = `${build ? 'build' : 'job'}-${randomBytes(8).toString('hex')}`
      const role: ProcessRole = build ? 'build' : 'job'
      const execute = async (): Promise<RunResult> => {
        const started = Date.now()
        const child = spawnSandboxed(
          slot,
          spec.argv,
          id ? APP_DIR : spec.cwd,
          { ...baseEnv(slot, spec.env, spec.binDir, proxyPort), ...marker(spec.environmentId, runId, role) },
          mounts,
          netns,
          true,
          { unit, limits: spec.limits },
        )
        if (child.pid !== undefined)
          records.write({
            environmentId: spec.environmentId,
            instanceId: runId,
            role,
            pid: child.pid,
            release: null,
            deploymentId: null,
            ports: [],
            socketPath: null,
          })
        // `build.running`, `job.running`: the control plane dies while a build or a job runs (test/crash/).
        crashPoint(`${role}.running`)
        child.stdin?.end()
        pipeOutput(child, spec.onOutput)
        let timedOut = false
        const timer = setTimeout(() => {
          timedOut = true
          signalGroup(child, 'SIGKILL')
        }, spec.timeoutMs)
        const { code, signal } = await exited(child)
        clearTimeout(timer)
        // Leftover children of the command (daemons it forked) do not outlive it; in a sandbox the PID
        // namespace ends with its first process anyway.
        if (child.pid !== undefined) {
          try {
            process.kill(-child.pid, 'SIGKILL')
          } catch {
            // no process left in the group
          }
        }
        records.remove({ environmentId: spec.environmentId, instanceId: runId, role })
        const oom = id !== null && spec.limits !== undefined && limiter.oomKills(id.name, unit) > 0
        if (id && spec.limits !== undefined) await limiter.release(id.name, unit)
        if (oom)
          spec.onOutput(
            'stderr',
            `[palisade] out of memory: the command used more than its ${Math.round((spec.limits?.memoryBytes ?? 0) / 1024 ** 2)} MB limit and the kernel killed it\n`,
          )
        return { code, signal, timedOut, durationMs: Date.now() - started, ...(oom ? { oom } : {}) }
      }
      try {
        return netns && proxyPort !== undefined
          ? await withEgressBridge(
              slot,
              spec.environmentId,
              runId,
              build ? 'build' : 'app',
              netns,
              proxyPort,
              execute,
            )
          : await execute()
      } finally {
        if (!build && proxyPort !== undefined) slot.ports.delete(proxyPort)
      }
    },

    async close(graceMs) {
      await Promise.all([...live.keys()].map((p) => p.stop(graceMs)))
      // A stop for good leaves nothing the platform started behind: also what a previous control plane
      // started and this one never adopted (docs/crash-safety.md).
      await reapProcesses(records, { keep: (r) => r.role === 'service', exclude: ownPids(), graceMs }).catch(
        (err: unknown) =>
          opts.onWarning?.(
            `stopping leftover processes failed: ${err instanceof Error ? err.message : 'error'}`,
          ),
      )
      await gateway?.close()
      gateway = null
      egressOpen.clear()
      // Users and namespaces stay: an environment keeps its identity across restarts (ids are never
      // reused); `removeEnvironment` takes them away when the environment is deleted.
      // Empty cgroups go (a service daemon still running keeps its own).
      for (const slot of slots.values())
        if (slot.identity) await limiter.removeGroup(slot.identity.name, true)
      slots.clear()
    },
  }
  return driver
}
