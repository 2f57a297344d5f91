import { Redis } from 'ioredis'
import type { Clock } from '../shared/clock.js'
import { createLoginThrottle, type LoginThrottle } from './login-throttle.js'
import { createMemoryNonceStore, createRedisNonceStore, type NonceStore } from './nonce-store.js'

export interface IdentityStores {
  readonly throttle: LoginThrottle
  readonly nonces: NonceStore
  /** `redis` or `memory`: where throttling counters and nonces live. */
  readonly kind: 'redis' | 'memory'
  close(): Promise<void>
}

/**
 * Throttling counters and signature nonces: in this process's memory, or in Redis when a URL is
 * configured so that several API processes share them (an attacker cannot multiply the login
 * limit or replay a nonce by hitting another process).
 */
export function createIdentityStores(options: {
  redisUrl: string | undefined
  clock: Clock
}): IdentityStores {
  if (!options.redisUrl) {
    return {
      throttle: createLoginThrottle(),
      nonces: createMemoryNonceStore(options.clock),
      kind: 'memory',
      close: () => Promise.resolve(),
    }
  }
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 1, connectTimeout: 5000 })
  return {
    throttle: createLoginThrottle({ redis }),
    nonces: createRedisNonceStore(redis),
    kind: 'redis',
    async close() {
      await redis.quit().catch(() => redis.disconnect())
    },
  }
}
