import { createHash, timingSafeEqual } from 'node:crypto'
import argon2 from 'argon2'
import type { EdgeBasicAuth } from './types.js'

export interface BasicCredentials {
  readonly username: string
  readonly password: string
}

/** Parses `Authorization: Basic base64(user:pass)`; null when absent or malformed. */
export function parseBasicAuth(header: string | undefined): BasicCredentials | null {
  if (!header || header.length > 4096) return null
  const space = header.indexOf(' ')
  if (space === -1 || header.slice(0, space).toLowerCase() !== 'basic') return null
  const decoded = Buffer.from(header.slice(space + 1).trim(), 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon === -1) return null
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) }
}

/**
 * Checks Basic credentials against a route's argon2id hash.
 *
 * Threat: argon2 is deliberately slow and memory-hungry (tens of ms, MiBs per call). Running it for every
 * request of a logged-in browser would let ordinary traffic — or an attacker replaying one valid login —
 * saturate the CPU. So a successful check is remembered for `ttlMs` under a SHA-256 of
 * (hash, username, password): the cache never holds a password, a password change (new hash) misses it,
 * and wrong passwords are never cached. Guessing is slowed by the edge's failed-login throttle.
 */
export class BasicAuthVerifier {
  readonly #cache = new Map<string, number>()
  readonly #ttlMs: number
  readonly #maxEntries: number
  readonly #now: () => number

  constructor(options: { ttlMs?: number; maxEntries?: number; now?: () => number } = {}) {
    this.#ttlMs = options.ttlMs ?? 60_000
    this.#maxEntries = options.maxEntries ?? 10_000
    this.#now = options.now ?? Date.now
  }

  /**
   * true when the credentials match, false when not, null when `mayRunSlowCheck` refused the argon2 run
   * (the caller's failed-login throttle).
   */
  async verify(
    expected: EdgeBasicAuth,
    given: BasicCredentials,
    mayRunSlowCheck: () => boolean | Promise<boolean> = () => true,
  ): Promise<boolean | null> {
    const key = createHash('sha256')
      .update(expected.passwordHash)
      .update('\0')
      .update(given.username)
      .update('\0')
      .update(given.password)
      .digest('base64')
    const until = this.#cache.get(key)
    const now = this.#now()
    if (until !== undefined && until > now) return true
    if (until !== undefined) this.#cache.delete(key)

    if (!(await mayRunSlowCheck())) return null
    const userOk = safeEqual(expected.username, given.username)
    let passwordOk = false
    try {
      passwordOk = await argon2.verify(expected.passwordHash, given.password)
    } catch {
      passwordOk = false // a malformed stored hash denies, never throws on traffic
    }
    if (!userOk || !passwordOk) return false
    if (this.#cache.size >= this.#maxEntries) {
      const oldest = this.#cache.keys().next()
      if (!oldest.done) this.#cache.delete(oldest.value)
    }
    this.#cache.set(key, now + this.#ttlMs)
    return true
  }
}

function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest()
  const hb = createHash('sha256').update(b).digest()
  return timingSafeEqual(ha, hb)
}
