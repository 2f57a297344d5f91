import type { Redis } from 'ioredis'
import type { Clock } from '../shared/clock.js'
import { UnavailableError } from '../shared/errors.js'
import { IAM_ERRORS } from './errors.js'

/** Remembers nonces of signed requests for as long as their signature could be accepted (replay defence). */
export interface NonceStore {
  /** True the first time `(keyId, nonce)` is seen within `ttlSeconds`; false for a replay. */
  claim(keyId: string, nonce: string, ttlSeconds: number): Promise<boolean>
}

/** Upper bound of remembered nonces per process: memory exhaustion by a flood of signed requests. */
export const MAX_MEMORY_NONCES = 500_000

export function createMemoryNonceStore(clock: Clock, max = MAX_MEMORY_NONCES): NonceStore {
  const seen = new Map<string, number>()
  let nextSweep = 0
  const sweep = (now: number): void => {
    for (const [k, until] of seen) if (until <= now) seen.delete(k)
    nextSweep = now + 10_000
  }
  return {
    claim(keyId, nonce, ttlSeconds) {
      const now = clock.now().getTime()
      if (now >= nextSweep || seen.size >= max) sweep(now)
      const k = `${keyId}\n${nonce}`
      const until = seen.get(k)
      if (until !== undefined && until > now) return Promise.resolve(false)
      // Refusing beats forgetting: a forgotten nonce could be replayed.
      if (seen.size >= max)
        return Promise.reject(
          new UnavailableError(IAM_ERRORS.nonceStoreFull, 'too many signed requests in flight'),
        )
      seen.set(k, now + ttlSeconds * 1000)
      return Promise.resolve(true)
    },
  }
}

/** Shared between API processes: `SET key 1 NX EX ttl` succeeds for the first claimant only. */
export function createRedisNonceStore(redis: Redis): NonceStore {
  return {
    async claim(keyId, nonce, ttlSeconds) {
      const res = await redis.set(`palisade:nonce:${keyId}:${nonce}`, '1', 'EX', ttlSeconds, 'NX')
      return res === 'OK'
    },
  }
}
