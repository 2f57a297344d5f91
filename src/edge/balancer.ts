import type { EdgeTarget, EdgeUpstream } from './types.js'
import { upstreamKey } from './upstream-pool.js'

/** Every upstream of a proxy target (one per app instance; `upstream` alone for a single instance). */
export function upstreamsOf(target: Extract<EdgeTarget, { kind: 'proxy' }>): readonly EdgeUpstream[] {
  if (target.upstreams !== undefined && target.upstreams.length > 0) return target.upstreams
  // one list per upstream object, not one per request (route data is replaced, never changed in place)
  let single = singles.get(target.upstream)
  if (single === undefined) singles.set(target.upstream, (single = Object.freeze([target.upstream])))
  return single
}

const singles = new WeakMap<EdgeUpstream, readonly EdgeUpstream[]>()

/**
 * Picks the instance a request goes to: least outstanding requests, ties broken round robin; an instance
 * whose connection just failed is passed over for `downMs` (passive health check) unless every one is.
 */
export class Balancer {
  readonly #inFlight: (key: string) => number
  readonly #now: () => number
  readonly #downMs: number
  readonly #down = new Map<string, number>()
  #turn = 0

  constructor(options: { inFlight: (key: string) => number; now?: () => number; downMs?: number }) {
    this.#inFlight = options.inFlight
    this.#now = options.now ?? Date.now
    this.#downMs = options.downMs ?? 2_000
  }

  /** The upstream for a request, or null when every candidate is in `exclude`. */
  pick(upstreams: readonly EdgeUpstream[], exclude?: ReadonlySet<string>): EdgeUpstream | null {
    if (upstreams.length === 1 && exclude === undefined) return upstreams[0] ?? null
    const now = this.#now()
    const start = this.#turn++ % upstreams.length
    let best: EdgeUpstream | null = null
    let bestScore = Infinity
    for (let i = 0; i < upstreams.length; i++) {
      const u = upstreams[(start + i) % upstreams.length] as EdgeUpstream
      const key = upstreamKey(u)
      if (exclude?.has(key)) continue
      const until = this.#down.get(key)
      const down = until !== undefined && until > now
      if (until !== undefined && !down) this.#down.delete(key)
      // A down instance still beats nothing: it may have come back.
      const score = this.#inFlight(key) + (down ? 1e9 : 0)
      if (score < bestScore) {
        best = u
        bestScore = score
      }
    }
    return best
  }

  /** A connection to this upstream failed: pass it over for a while. */
  markDown(key: string): void {
    this.#down.set(key, this.#now() + this.#downMs)
  }

  /** It answered: back in rotation at once. */
  markUp(key: string): void {
    if (this.#down.size > 0) this.#down.delete(key)
  }
}
