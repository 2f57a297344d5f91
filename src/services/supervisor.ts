import type { ChildProcess } from 'node:child_process'
import { closeSync, readFileSync } from 'node:fs'
import type { Readable } from 'node:stream'
import { spawnServer, spawnService, type RunAs } from './exec.js'

export interface Backoff {
  /** First restart delay, ms. */
  readonly initialMs: number
  /** Longest delay, ms. */
  readonly maxMs: number
  /** A process that stayed up this long starts the backoff again from `initialMs`. */
  readonly resetAfterMs: number
}

export const DEFAULT_SERVICE_BACKOFF: Backoff = Object.freeze({
  initialMs: 500,
  maxMs: 30_000,
  resetAfterMs: 30_000,
})

export interface SupervisedSpec {
  readonly argv: readonly string[]
  readonly runAs: RunAs | null
  readonly cwd: string
  readonly env?: Readonly<Record<string, string>>
  /** The signal that makes the server shut down cleanly and quickly (PostgreSQL: SIGINT). */
  readonly stopSignal: NodeJS.Signals
  readonly backoff: Backoff
  readonly onExit?: (code: number | null, signal: string | null) => void
  /**
   * An argv prefix run as root that puts itself into the service's cgroup and then execs the rest (the
   * deploy driver's `serviceLauncher`): the server then drops to `runAs` with setpriv, born inside its limits.
   */
  readonly launcher?: readonly string[] | null
  /** Told the pid of each server process started (crash safety: it is recorded). */
  readonly onSpawn?: (pid: number) => void
  /**
   * A server a previous control plane started, taken over instead of started (docs/crash-safety.md): `pid`
   * leads its process group; `alive` tells whether it (or its server) still runs. Once it is gone on its
   * own, it is started again with backoff like any server. Its output is seen only through `output` (its
   * pipes, if it had any, went with the control plane that started it).
   */
  readonly adopt?: { readonly pid: number; alive(): boolean }
  /**
   * Where the server's stdout and stderr go when they must outlive the control plane (docs/crash-safety.md):
   * a file the server appends to (it gets the descriptor, never the path), which an adopted server keeps
   * writing and the next control plane reads. Absent: pipes to this control plane (lost with it).
   */
  readonly output?: ServerOutput
}

/** A service's output file, seen from the supervisor (the deploy driver's `ServiceOutput` for one service). */
export interface ServerOutput {
  /** A new append-only descriptor for the server's stdout and stderr (the caller closes it after the spawn). */
  open(): number
  /** The file's size now (where a server started now begins). */
  size(): number
  /** The last `maxBytes` of the output, from `from` on in the current file when given. */
  read(maxBytes: number, from?: number): string
  /** Moves the file aside and empties it once it is past its cap. */
  cap(): void
}

/** How often the output file is checked against its cap, ms. */
const OUTPUT_CAP_CHECK_MS = 5_000

export type SupervisedState = 'running' | 'backoff' | 'stopped'

export interface Supervised {
  readonly state: SupervisedState
  /** The server's own process id. */
  readonly pid: number | null
  /** The process group of everything this start ran (sandbox and server with its workers). */
  readonly group: number | null
  readonly restarts: number
  /**
   * The last 16 KiB of the server's output (for failure reasons; servers never print passwords): since its
   * start, or of its output file for an adopted server.
   */
  output(): string
  /** Stops the process (and stops restarting it); SIGKILL after `graceMs`. */
  stop(graceMs: number): Promise<void>
}

const OUTPUT_TAIL = 16 * 1024

/**
 * Starts a server process and restarts it with exponential backoff whenever it exits on its own
 * (kill -9, crash, OOM). Each start is its own process group so that stop() reaches its children.
 */
export function supervise(spec: SupervisedSpec): Supervised {
  let child: ChildProcess | null = null
  let state: SupervisedState = 'running'
  let restarts = 0
  let delay = spec.backoff.initialMs
  let timer: NodeJS.Timeout | null = null
  let tail = ''
  const closed = new WeakSet<ChildProcess>()
  const append = (t: string): void => {
    tail = (tail + t).slice(-OUTPUT_TAIL)
  }

  /** Where the running server's output starts in its file (undefined: an adopted server, all of it). */
  let outputFrom: number | undefined
  function launch(): void {
    const startedAt = Date.now()
    const opts = {
      runAs: spec.runAs,
      launcher: spec.launcher ?? null,
      cwd: spec.cwd,
      daemon: true,
      ...(spec.env ? { env: spec.env } : {}),
    }
    let spawned: ChildProcess | null = null
    if (spec.output) {
      let fd: number | null = null
      try {
        spec.output.cap()
        outputFrom = spec.output.size()
        fd = spec.output.open()
      } catch (e) {
        append(`output file unusable, output kept in memory: ${e instanceof Error ? e.message : String(e)}\n`)
      }
      if (fd !== null) {
        try {
          spawned = spawnServer(spec.argv, fd, opts)
        } finally {
          closeSync(fd)
        }
        // Read to its end so that it closes (it carries nothing).
        ;(spawned.stdio[3] as Readable | null)?.resume()
      }
    }
    if (!spawned) {
      outputFrom = undefined
      spawned = spawnService(spec.argv, opts)
      spawned.stdout?.setEncoding('utf8').on('data', append)
      spawned.stderr?.setEncoding('utf8').on('data', append)
    }
    const c = spawned
    child = c
    if (c.pid !== undefined) spec.onSpawn?.(c.pid)
    c.once('close', () => closed.add(c))
    c.stdin?.end()
    c.on('error', (e) => append(`spawn failed: ${e.message}\n`))
    // 'close', not 'exit': in a sandbox the process Node started is bubblewrap's monitor, which a stop
    // signal ends at once while the server is still shutting down; its output closes when the server is gone.
    c.on('close', (code, signal) => {
      if (child === c) child = null
      spec.onExit?.(code, signal)
      restartLater(startedAt)
    })
  }

  function restartLater(startedAt: number): void {
    if (state === 'stopped') return
    if (Date.now() - startedAt >= spec.backoff.resetAfterMs) delay = spec.backoff.initialMs
    state = 'backoff'
    timer = setTimeout(() => {
      timer = null
      if (state !== 'backoff') return
      restarts++
      state = 'running'
      launch()
    }, delay)
    timer.unref()
    delay = Math.min(delay * 2, spec.backoff.maxMs)
  }

  /** The adopted server, watched through /proc until it ends (it is not our child). */
  let adopted = spec.adopt ?? null
  let watchTimer: NodeJS.Timeout | null = null
  function watch(): void {
    const a = adopted
    if (!a) return
    const takenAt = Date.now()
    const check = (): void => {
      watchTimer = null
      if (adopted !== a) return
      if (a.alive()) {
        watchTimer = setTimeout(check, 500)
        watchTimer.unref()
        return
      }
      adopted = null
      spec.onExit?.(null, null)
      restartLater(takenAt)
    }
    check()
  }

  const capTimer = spec.output
    ? setInterval(() => {
        try {
          spec.output?.cap()
        } catch {
          // checked again at the next tick
        }
      }, OUTPUT_CAP_CHECK_MS)
    : null
  capTimer?.unref()

  if (adopted) watch()
  else launch()

  return {
    get state() {
      return state
    },
    get pid() {
      const pid = child?.pid ?? adopted?.pid
      if (pid === undefined) return null
      return spec.runAs?.sandbox ? serverPidIn(pid) : pid
    },
    get group() {
      return child?.pid ?? adopted?.pid ?? null
    },
    get restarts() {
      return restarts
    },
    output: () => {
      if (!spec.output) return tail
      let text = ''
      try {
        text = spec.output.read(OUTPUT_TAIL, outputFrom)
      } catch {
        // unreadable: what this control plane saw itself
      }
      return (text + tail).slice(-OUTPUT_TAIL)
    },
    stop(graceMs) {
      state = 'stopped'
      if (capTimer) clearInterval(capTimer)
      if (timer) clearTimeout(timer)
      if (watchTimer) clearTimeout(watchTimer)
      const a = adopted
      adopted = null
      if (a) return stopAdopted(a, spec, graceMs).then(() => spec.onExit?.(null, null))
      const c = child
      if (!c || c.pid === undefined || closed.has(c)) return Promise.resolve()
      return new Promise<void>((resolve) => {
        const kill = setTimeout(() => signalGroup(c, 'SIGKILL'), graceMs)
        c.once('close', () => {
          clearTimeout(kill)
          resolve()
        })
        if (spec.runAs?.sandbox) {
          // The server is not Node's child but runs in the same process group (bubblewrap keeps it); the
          // sandbox's init ignores the signal and leaves when the server has shut down.
          signalGroup(c, spec.stopSignal)
          return
        }
        // Only the leader: PostgreSQL and MariaDB shut their own workers down in order.
        try {
          c.kill(spec.stopSignal)
        } catch {
          resolve()
        }
      })
    },
  }
}

/**
 * Stops an adopted server like a child one: the stop signal to the group (sandboxed) or the leader, SIGKILL
 * to the group after `graceMs`, then waits (at most 5 s more) until nothing of it runs.
 */
async function stopAdopted(
  a: { readonly pid: number; alive(): boolean },
  spec: SupervisedSpec,
  graceMs: number,
): Promise<void> {
  const send = (target: number, signal: NodeJS.Signals): void => {
    try {
      process.kill(target, signal)
    } catch {
      // already gone
    }
  }
  if (!a.alive()) return
  send(spec.runAs?.sandbox ? -a.pid : a.pid, spec.stopSignal)
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
  const deadline = Date.now() + graceMs
  while (a.alive() && Date.now() < deadline) await sleep(50)
  if (!a.alive()) return
  send(-a.pid, 'SIGKILL')
  for (let i = 0; i < 100 && a.alive(); i++) await sleep(50)
}

/**
 * The server's own pid under bubblewrap: Node started the sandbox's monitor, whose one child is the
 * sandbox's init, whose one child is the server (setpriv replaced itself with it). Two steps exactly: the
 * server's own children (Redis's snapshot fork) are not it. Before the server exists: the nearest found.
 */
function serverPidIn(pid: number): number {
  let current = pid
  for (let step = 0; step < 2; step++) {
    let children: string[]
    try {
      children = readFileSync(`/proc/${current}/task/${current}/children`, 'utf8').trim().split(/\s+/)
    } catch {
      return current
    }
    if (children.length !== 1 || children[0] === '') return current
    current = Number(children[0])
  }
  return current
}

function signalGroup(c: ChildProcess, signal: NodeJS.Signals): void {
  if (c.pid === undefined) return
  try {
    process.kill(-c.pid, signal)
  } catch {
    // already gone
  }
}
