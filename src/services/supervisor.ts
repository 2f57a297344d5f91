import { spawn, type ChildProcess } from 'node:child_process'
import { cleanEnv, type RunAs } from './exec.js'

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
  /** Told the pid of each server process started (crash safety: it is recorded). */
  readonly onSpawn?: (pid: number) => void
}

export type SupervisedState = 'running' | 'backoff' | 'stopped'

export interface Supervised {
  readonly state: SupervisedState
  readonly pid: number | null
  readonly restarts: number
  /** The last 16 KiB of the server's output (for failure reasons; servers never print passwords). */
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
  const append = (t: string): void => {
    tail = (tail + t).slice(-OUTPUT_TAIL)
  }

  function launch(): void {
    const startedAt = Date.now()
    const ids = spec.runAs ? { uid: spec.runAs.uid, gid: spec.runAs.gid } : {}
    const c = spawn(spec.argv[0] as string, spec.argv.slice(1), {
      cwd: spec.cwd,
      env: cleanEnv(spec.env),
      detached: true,
      shell: false,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...ids,
    })
    child = c
    if (c.pid !== undefined) spec.onSpawn?.(c.pid)
    c.stdout?.setEncoding('utf8').on('data', append)
    c.stderr?.setEncoding('utf8').on('data', append)
    c.on('error', (e) => append(`spawn failed: ${e.message}\n`))
    c.on('exit', (code, signal) => {
      if (child === c) child = null
      spec.onExit?.(code, signal)
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
    })
  }

  launch()

  return {
    get state() {
      return state
    },
    get pid() {
      return child?.pid ?? null
    },
    get restarts() {
      return restarts
    },
    output: () => tail,
    stop(graceMs) {
      state = 'stopped'
      if (timer) clearTimeout(timer)
      const c = child
      if (!c || c.pid === undefined || c.exitCode !== null || c.signalCode !== null) return Promise.resolve()
      return new Promise<void>((resolve) => {
        const kill = setTimeout(() => signalGroup(c, 'SIGKILL'), graceMs)
        c.once('exit', () => {
          clearTimeout(kill)
          resolve()
        })
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

function signalGroup(c: ChildProcess, signal: NodeJS.Signals): void {
  if (c.pid === undefined) return
  try {
    process.kill(-c.pid, signal)
  } catch {
    // already gone
  }
}
