import type { Throttle, ThrottleDecision } from './types.js'

interface Bucket {
  tokens: number
  updatedMs: number
}

const ALLOWED: ThrottleDecision = Object.freeze({ allowed: true, retryAfterSeconds: 0 })

/**
 * In-process token buckets keyed by environment and client. Bounded: an attacker who rotates source
 * addresses can only push out the least recently used buckets (memory exhaustion), never grow the map.
 */
export class MemoryThrottle implements Throttle {
  readonly #buckets = new Map<string, Bucket>()
  readonly #maxKeys: number
  readonly #now: () => number

  constructor(options: { maxKeys?: number; now?: () => number } = {}) {
    this.#maxKeys = options.maxKeys ?? 100_000
    this.#now = options.now ?? Date.now
  }

  take(key: string, requestsPerSecond: number, burst: number): ThrottleDecision {
    if (requestsPerSecond <= 0) return ALLOWED
    const capacity = Math.max(1, burst)
    const now = this.#now()
    let bucket = this.#buckets.get(key)
    if (bucket) {
      this.#buckets.delete(key) // re-insert below keeps Map order = least recently used first
      bucket.tokens = Math.min(
        capacity,
        bucket.tokens + ((now - bucket.updatedMs) / 1000) * requestsPerSecond,
      )
      bucket.updatedMs = now
    } else {
      bucket = { tokens: capacity, updatedMs: now }
      if (this.#buckets.size >= this.#maxKeys) {
        const oldest = this.#buckets.keys().next()
        if (!oldest.done) this.#buckets.delete(oldest.value)
      }
    }
    this.#buckets.set(key, bucket)
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1
      return ALLOWED
    }
    const wait = (1 - bucket.tokens) / requestsPerSecond
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(wait)) }
  }

  /** Number of tracked keys (for tests and metrics). */
  get size(): number {
    return this.#buckets.size
  }
}

/**
 * The throttle key for a client: IPv6 clients are keyed by their /64, because one host usually owns a whole
 * /64 and could otherwise dodge its limit by rotating addresses.
 */
export function clientKey(ip: string): string {
  if (!ip.includes(':')) return ip
  if (ip.startsWith('::ffff:') && ip.includes('.')) return ip.slice(7)
  const groups = expandIpv6(ip)
  return groups ? `${groups.slice(0, 4).join(':')}::/64` : ip
}

function expandIpv6(ip: string): string[] | null {
  const zone = ip.indexOf('%')
  const text = zone === -1 ? ip : ip.slice(0, zone)
  const halves = text.split('::')
  if (halves.length > 2) return null
  const head = halves[0] ? halves[0].split(':') : []
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : []
  const missing = 8 - head.length - tail.length
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return null
  return [...head, ...Array<string>(missing).fill('0'), ...tail].map((g) => g.toLowerCase())
}
