import { createRequire } from 'node:module'
import type { Redis as RedisClient } from 'ioredis'
import type { Clock } from '../shared/clock.js'
import { createLoginThrottle, type LoginThrottle } from './login-throttle.js'
import { createResetThrottles } from './password-resets.js'
import { createMemoryNonceStore, createRedisNonceStore, type NonceStore } from './nonce-store.js'

export interface IdentityStores {
  readonly throttle: LoginThrottle
  /** Password reset requests and confirmations, counted apart from sign-ins. */
  readonly resetThrottles: { readonly request: LoginThrottle; readonly confirm: LoginThrottle }
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
      resetThrottles: createResetThrottles(),
      nonces: createMemoryNonceStore(options.clock),
      kind: 'memory',
      close: () => Promise.resolve(),
    }
  }
  // Loaded only when configured: ioredis costs ~150 ms of start-up for installs that do not use it.
  const { Redis } = createRequire(import.meta.url)('ioredis') as {
    Redis: new (url: string, o: object) => RedisClient
  }
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 1, connectTimeout: 5000 })
  return {
    throttle: createLoginThrottle({ redis }),
    resetThrottles: createResetThrottles({ redis }),
    nonces: createRedisNonceStore(redis),
    kind: 'redis',
    async close() {
      await redis.quit().catch(() => redis.disconnect())
    },
  }
}
