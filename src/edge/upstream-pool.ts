import { Agent } from 'node:http'
import type { EdgeUpstream } from './types.js'

interface Pool {
  readonly agent: Agent
  inFlight: number
  retired: boolean
}

/** Keys already made, per upstream object (route data is replaced, never changed in place). */
const keys = new WeakMap<EdgeUpstream, string>()

export function upstreamKey(upstream: EdgeUpstream): string {
  let key = keys.get(upstream)
  if (key === undefined) {
    key = 'socketPath' in upstream ? `unix:${upstream.socketPath}` : `tcp:${upstream.host}:${upstream.port}`
    keys.set(upstream, key)
  }
  return key
}

/**
 * One keep-alive agent per upstream. When a deploy switches a route away from an upstream, its agent is
 * retired: requests already on it finish, then its idle sockets are closed so the old release can drain.
 */
export class UpstreamPools {
  readonly #pools = new Map<string, Pool>()
  readonly #maxSockets: number
  readonly #idleMs: number
  #live: ReadonlySet<string> | null = null

  constructor(options: { maxSockets?: number; idleMs?: number } = {}) {
    this.#maxSockets = options.maxSockets ?? 512
    this.#idleMs = options.idleMs ?? 30_000
  }

  /** Agent for an upstream, counting one request in flight until `release` is called. */
  acquire(key: string): Agent {
    let pool = this.#pools.get(key)
    if (!pool) {
      pool = {
        agent: new Agent({
          keepAlive: true,
          maxSockets: this.#maxSockets,
          maxFreeSockets: this.#maxSockets,
          timeout: this.#idleMs,
          scheduling: 'lifo',
        }),
        inFlight: 0,
        // A request that looked its route up before a switch may still arrive here after it.
        retired: this.#live !== null && !this.#live.has(key),
      }
      this.#pools.set(key, pool)
    }
    pool.inFlight++
    return pool.agent
  }

  /** Requests in flight to an upstream (the balancer's load measure). */
  inFlight(key: string): number {
    return this.#pools.get(key)?.inFlight ?? 0
  }

  release(key: string, agent: Agent): void {
    const pool = this.#pools.get(key)
    if (!pool || pool.agent !== agent) return
    pool.inFlight--
    if (pool.retired && pool.inFlight === 0) this.#destroy(key, pool)
  }

  /** Retires every pool whose key is not in `live`. */
  retainOnly(live: ReadonlySet<string>): void {
    this.#live = live
    for (const [key, pool] of this.#pools) {
      if (live.has(key)) {
        pool.retired = false
        continue
      }
      pool.retired = true
      if (pool.inFlight === 0) this.#destroy(key, pool)
    }
  }

  #destroy(key: string, pool: Pool): void {
    pool.agent.destroy()
    if (this.#pools.get(key) === pool) this.#pools.delete(key)
  }

  closeAll(): void {
    for (const [key, pool] of this.#pools) this.#destroy(key, pool)
  }

  get size(): number {
    return this.#pools.size
  }
}
