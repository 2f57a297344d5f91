import { spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { chmodSync, mkdirSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import path from 'node:path'
import type {
  DeployDriver,
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
import {
  ensureNamespace,
  ensureSystemUser,
  hardenDataDir,
  ownTree,
  removeSandbox,
  type Sandbox,
} from './isolation.js'

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
  /** Own user and network namespace per environment (needs root). */
  readonly isolate: boolean
  readonly backoff?: Backoff
  readonly onWarning?: (message: string) => void
}

export const DEFAULT_BACKOFF: Backoff = Object.freeze({
  initialMs: 1_000,
  maxMs: 60_000,
  resetAfterMs: 30_000,
})

const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
/** Apps in a namespace listen on these ports; only the environment's own processes can reach them. */
const SANDBOX_PORT_BASE = 20_000

/**
 * Forwards connections from a Unix socket (reachable by the edge) to 127.0.0.1:<port> inside the
 * environment's network namespace. Runs as the environment's user; the socket is 0600.
 */
const BRIDGE_SOURCE = `
const net = require('node:net'); const fs = require('node:fs');
const [sock, port] = process.argv.slice(1);
try { fs.unlinkSync(sock) } catch {}
const server = net.createServer((c) => {
  const u = net.connect(Number(port), '127.0.0.1');
  c.pipe(u); u.pipe(c);
  c.on('error', () => u.destroy()); u.on('error', () => c.destroy());
  c.on('close', () => u.destroy()); u.on('close', () => c.destroy());
});
server.listen(sock, () => { fs.chmodSync(sock, 0o600) });
process.on('SIGTERM', () => { server.close(); try { fs.unlinkSync(sock) } catch {}; process.exit(0) });
`

interface EnvSlot {
  readonly envDir: string
  readonly sandbox: Sandbox | null
  nextPort: number
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

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return
  try {
    process.kill(-child.pid, signal)
  } catch {
    try {
      child.kill(signal)
    } catch {
      // already gone
    }
  }
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

/**
 * Runs environments' processes on this host. As root with `isolate`, each environment gets its own
 * system user and network namespace (loopback only) and the edge reaches the app through a Unix socket
 * bridged into the namespace; otherwise processes run as the control plane's user on loopback ports.
 * Processes never inherit the control plane's environment (it holds the master key).
 */
export function createLocalDriver(options: LocalDriverOptions): DeployDriver {
  const opts = Object.freeze({ ...options, backoff: options.backoff ?? DEFAULT_BACKOFF })
  const slots = new Map<string, EnvSlot>()
  const live = new Set<RunningProcess>()
  const isolation: IsolationReport = opts.isolate
    ? {
        mode: 'namespaces',
        summary:
          'each environment runs as its own system user in its own network namespace (loopback only); the edge reaches it through a Unix socket',
      }
    : {
        mode: 'none',
        summary:
          'not running as root: apps run as the control plane user on loopback ports; environments are NOT isolated from each other',
      }

  function slotOf(environmentId: string): EnvSlot {
    const slot = slots.get(environmentId)
    if (!slot) throw new Error(`environment ${environmentId} was not prepared`)
    return slot
  }

  function baseEnv(
    slot: EnvSlot,
    extra: Readonly<Record<string, string>>,
    binDir?: string,
  ): Record<string, string> {
    // The pinned runtime's bin (else the node the control plane runs on) comes first: `node`, and the host's
    // `npm` (a `#!/usr/bin/env node` script), both run on that version.
    const host = path.dirname(process.execPath)
    const env: Record<string, string> = {
      PATH: `${binDir === undefined ? host : `${binDir}:${host}`}:${SYSTEM_PATH}`,
      HOME: path.join(slot.envDir, 'home'),
      LANG: 'C.UTF-8',
      ...extra,
    }
    // A pinned runtime stays first even if the environment sets PATH itself.
    if (binDir !== undefined && extra['PATH'] !== undefined) env['PATH'] = `${binDir}:${extra['PATH']}`
    return env
  }

  function sandboxArgv(sandbox: Sandbox, argv: readonly string[]): string[] {
    return [
      'nsenter',
      `--net=/run/netns/${sandbox.name}`,
      `--setuid=${sandbox.uid}`,
      `--setgid=${sandbox.gid}`,
      '--',
      ...argv,
    ]
  }

  function spawnIn(
    slot: EnvSlot,
    argv: readonly string[],
    cwd: string,
    env: Record<string, string>,
    network: 'host' | 'sandbox',
  ): ChildProcess {
    const sb = slot.sandbox
    if (sb && network === 'sandbox') {
      const full = sandboxArgv(sb, argv)
      return spawn(full[0] as string, full.slice(1), {
        cwd,
        env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        shell: false,
      })
    }
    const ids = sb ? { uid: sb.uid, gid: sb.gid } : {}
    return spawn(argv[0] as string, argv.slice(1), {
      cwd,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      shell: false,
      ...ids,
    })
  }

  return {
    name: 'local',
    isolation,

    async prepareEnvironment(environmentId, envDir) {
      for (const d of ['home', 'run', 'releases', 'shared'])
        mkdirSync(path.join(envDir, d), { recursive: true })
      let sandbox: Sandbox | null = null
      if (opts.isolate) {
        hardenDataDir(opts.dataDir, opts.onWarning)
        const name = sandboxName(environmentId)
        const ids = await ensureSystemUser(name, envDir)
        await ensureNamespace(name)
        sandbox = { name, ...ids }
      }
      if (sandbox) {
        await ownTree(sandbox, envDir)
        chmodSync(envDir, 0o700)
      }
      const prior = slots.get(environmentId)
      slots.set(environmentId, { envDir, sandbox, nextPort: prior?.nextPort ?? 0 })
    },

    async ownTree(environmentId, dir) {
      const sb = slotOf(environmentId).sandbox
      if (sb) await ownTree(sb, dir)
    },

    async start(spec: ProcessSpec): Promise<RunningProcess> {
      const slot = slotOf(spec.environmentId)
      const sb = slot.sandbox
      let port: number
      let upstream: Upstream
      let bridge: ChildProcess | null = null
      if (sb) {
        port = SANDBOX_PORT_BASE + (slot.nextPort++ % 10_000)
        const socketPath = path.join(slot.envDir, 'run', `${spec.instanceId}.sock`)
        upstream = { socketPath }
        bridge = spawnIn(
          slot,
          [process.execPath, '-e', BRIDGE_SOURCE, socketPath, String(port)],
          slot.envDir,
          baseEnv(slot, {}),
          'sandbox',
        )
        pipeOutput(bridge, (s, t) => spec.onOutput(s, `[bridge] ${t}`))
      } else {
        port = await freeLoopbackPort()
        upstream = { host: '127.0.0.1', port }
      }
      const env = baseEnv(
        slot,
        { ...spec.env, PORT: String(port), PALISADE_INSTANCE: spec.instanceId },
        spec.binDir,
      )

      let state: ProcessState = 'starting'
      let restarts = 0
      let attempt = 0
      let child: ChildProcess
      let startedAt = Date.now()
      let lastExit: ProcessStatus['lastExit'] = null
      let timer: NodeJS.Timeout | null = null
      let nextAt: number | null = null
      let stopping = false
      let resolveFirst!: (v: { code: number | null; signal: string | null }) => void
      const firstExit = new Promise<{ code: number | null; signal: string | null }>((r) => (resolveFirst = r))

      const launch = (): void => {
        startedAt = Date.now()
        child = spawnIn(slot, spec.argv, spec.cwd, env, 'sandbox')
        pipeOutput(child, spec.onOutput)
        child.once('spawn', () => {
          if (!stopping) state = 'running'
        })
        void exited(child).then(({ code, signal }) => {
          lastExit = { code, signal, at: new Date().toISOString() }
          resolveFirst({ code, signal })
          if (stopping) return
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
            launch()
          }, delay)
          timer.unref()
        })
      }
      launch()

      const proc: RunningProcess = {
        instanceId: spec.instanceId,
        upstream,
        firstExit,
        status: () => ({
          instanceId: spec.instanceId,
          state,
          restarts,
          pid: state === 'running' || state === 'starting' ? (child.pid ?? null) : null,
          lastExit,
          nextRestartInMs: nextAt === null ? null : Math.max(0, nextAt - Date.now()),
        }),
        async stop(graceMs) {
          if (stopping) return
          stopping = true
          if (timer) clearTimeout(timer)
          const done = Promise.all([exited(child), bridge ? exited(bridge) : Promise.resolve(null)])
          killGroup(child, 'SIGTERM')
          if (bridge) killGroup(bridge, 'SIGTERM')
          const kill = setTimeout(() => {
            killGroup(child, 'SIGKILL')
            if (bridge) killGroup(bridge, 'SIGKILL')
          }, graceMs)
          await done
          clearTimeout(kill)
          state = 'stopped'
          if ('socketPath' in upstream) rmSync(upstream.socketPath, { force: true })
          live.delete(proc)
        },
      }
      live.add(proc)
      return proc
    },

    async run(spec: RunSpec): Promise<RunResult> {
      const slot = slotOf(spec.environmentId)
      const started = Date.now()
      const child = spawnIn(slot, spec.argv, spec.cwd, baseEnv(slot, spec.env, spec.binDir), spec.network)
      pipeOutput(child, spec.onOutput)
      let timedOut = false
      const timer = setTimeout(() => {
        timedOut = true
        killGroup(child, 'SIGKILL')
      }, spec.timeoutMs)
      const { code, signal } = await exited(child)
      clearTimeout(timer)
      // Leftover children of the command (daemons it forked) do not outlive it.
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL')
        } catch {
          // no process left in the group
        }
      }
      return { code, signal, timedOut, durationMs: Date.now() - started }
    },

    async close(graceMs) {
      await Promise.all([...live].map((p) => p.stop(graceMs)))
      // Sandboxes live as long as the control plane: the next start prepares them again (and re-owns the
      // environment's files), so no system user or namespace is left behind by a stopped platform.
      for (const [id, slot] of slots) {
        if (slot.sandbox) await removeSandbox(slot.sandbox.name)
        slots.delete(id)
      }
    },
  }
}
