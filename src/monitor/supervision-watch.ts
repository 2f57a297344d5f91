import type { ProcessReport } from './platform-metrics.js'

export interface CrashLoopOptions {
  /** Restarts within `windowMs` that make a crash loop. */
  readonly restarts: number
  readonly windowMs: number
}

export const CRASH_LOOP_DEFAULTS: CrashLoopOptions = Object.freeze({ restarts: 5, windowMs: 10 * 60_000 })

/**
 * Watches the supervisor's reports (the driver restarts an exited app with exponential backoff): an environment
 * whose web process restarted `restarts` times within `windowMs` is crash-looping until it has run for a whole
 * window without a restart. Pure: `observe()` is fed the reports and the time.
 */
export class CrashLoopWatch {
  readonly #opts: CrashLoopOptions
  readonly #seen = new Map<string, { restarts: number; times: number[] }>()
  readonly #looping = new Set<string>()

  constructor(options: CrashLoopOptions = CRASH_LOOP_DEFAULTS) {
    this.#opts = Object.freeze({ ...options })
  }

  observe(reports: Iterable<ProcessReport>, now: number): void {
    const present = new Set<string>()
    for (const r of reports) {
      present.add(r.environmentId)
      let s = this.#seen.get(r.environmentId)
      if (!s || r.restarts < s.restarts)
        this.#seen.set(r.environmentId, (s = { restarts: r.restarts, times: [] }))
      for (let i = s.restarts; i < r.restarts; i++) s.times.push(now)
      s.restarts = r.restarts
      s.times = s.times.filter((t) => now - t < this.#opts.windowMs)
      if (s.times.length >= this.#opts.restarts) this.#looping.add(r.environmentId)
      else if (s.times.length === 0 && r.state === 'running') this.#looping.delete(r.environmentId)
    }
    for (const id of [...this.#seen.keys()]) if (!present.has(id)) this.#seen.delete(id)
    for (const id of [...this.#looping]) if (!present.has(id)) this.#looping.delete(id)
  }

  /** Restarts of an environment's app within the window (what a workspace's crash-loop threshold is compared to). */
  recentRestarts(environmentId: string): number {
    return this.#seen.get(environmentId)?.times.length ?? 0
  }

  looping(): ReadonlySet<string> {
    return this.#looping
  }
}
