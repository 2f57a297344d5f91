import type { RunningProcess, Upstream } from './drivers/driver.js'

/**
 * Starts `count` instances side by side. All or nothing: when one fails to start or to pass its health check,
 * the ones already up are stopped and the first failure is thrown.
 */
export async function startInstances(
  count: number,
  startOne: (index: number) => Promise<RunningProcess>,
  stop: (p: RunningProcess) => Promise<void>,
): Promise<RunningProcess[]> {
  const results = await Promise.allSettled(Array.from({ length: count }, (_, i) => startOne(i)))
  const started = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failed) {
    await Promise.all(started.map((p) => stop(p)))
    throw failed.reason
  }
  return started
}

/**
 * Which instances the edge may send requests to. An instance is healthy once it passed its health check at
 * start; it stops being healthy when its process is not running (crashed, in backoff), and becomes healthy
 * again only when, restarted, it answers its health check once more.
 */
export class InstanceHealth {
  readonly #state = new WeakMap<RunningProcess, { restarts: number; ok: boolean }>()

  /** The instance passed its health check. */
  markHealthy(p: RunningProcess): void {
    this.#state.set(p, { restarts: p.status().restarts, ok: true })
  }

  isHealthy(p: RunningProcess): boolean {
    return this.#state.get(p)?.ok === true && p.status().state === 'running'
  }

  /** Re-checks every instance; true when the healthy set changed (the route must be published again). */
  async check(
    processes: readonly RunningProcess[],
    probe: (u: Upstream) => Promise<boolean>,
  ): Promise<boolean> {
    let changed = false
    await Promise.all(
      processes.map(async (p) => {
        const s = this.#state.get(p)
        if (!s) return
        const st = p.status()
        if (st.state !== 'running') {
          if (s.ok) changed = true
          s.ok = false
          return
        }
        if (s.ok && st.restarts === s.restarts) return
        // Restarted since it was last seen healthy: back in rotation only once it answers.
        const ok = await probe(p.upstream)
        if (ok !== s.ok) changed = true
        s.ok = ok
        if (ok) s.restarts = st.restarts
      }),
    )
    return changed
  }

  /** The upstreams of the healthy instances (all of them when none is: the edge's own retries then decide). */
  upstreams(processes: readonly RunningProcess[]): Upstream[] {
    const healthy = processes.filter((p) => this.isHealthy(p))
    return (healthy.length > 0 ? healthy : processes).map((p) => p.upstream)
  }
}
