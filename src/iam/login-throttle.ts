import type { Redis } from 'ioredis'
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible'
import { ThrottledError } from '../shared/errors.js'
import { sha256Hex } from '../shared/hash.js'
import { IAM_ERRORS } from './errors.js'

/**
 * Online guessing limits (ASVS 6.3.1). An attempt is taken *before* the password is checked, so
 * parallel requests cannot overshoot the limit, and a success gives the account its tries back.
 */
export const LOGIN_LIMITS = Object.freeze({
  /** Tries per account (known or not: no enumeration) per window. */
  accountAttempts: 10,
  /** Tries per source address per window (password spraying across accounts). */
  sourceAttempts: 100,
  windowSeconds: 15 * 60,
})

/** Attempts per account and per source in a window. */
export interface ThrottleLimits {
  readonly accountAttempts: number
  readonly sourceAttempts: number
  readonly windowSeconds: number
}

export interface LoginThrottle {
  /** Takes one attempt for the account and the source; throws ThrottledError (429, Retry-After) when either is used up. */
  take(account: string, source: string | null): Promise<void>
  /** A successful sign-in clears the account's count and returns the source's point. */
  succeeded(account: string, source: string | null): Promise<void>
}

export interface LoginThrottleOptions {
  /** Shared store for several API processes; in memory when absent. */
  readonly redis?: Redis | undefined
  readonly limits?: ThrottleLimits
  /** Key prefix in the store (default `login`): other attempts (password resets) count apart from sign-ins. */
  readonly prefix?: string
  /** The 429's sentence (default: about sign-in attempts). */
  readonly message?: string
}

export function createLoginThrottle(options: LoginThrottleOptions = {}): LoginThrottle {
  const limits = options.limits ?? LOGIN_LIMITS
  const make = (prefix: string, points: number): RateLimiterAbstract => {
    const memory = new RateLimiterMemory({ keyPrefix: prefix, points, duration: limits.windowSeconds })
    if (!options.redis) return memory
    // If Redis fails, each process keeps limiting on its own instead of letting every attempt through.
    return new RateLimiterRedis({
      storeClient: options.redis,
      keyPrefix: `palisade:${prefix}`,
      points,
      duration: limits.windowSeconds,
      insuranceLimiter: memory,
    })
  }
  const kind = options.prefix ?? 'login'
  const accounts = make(`${kind}-account`, limits.accountAttempts)
  const sources = make(`${kind}-source`, limits.sourceAttempts)
  // Addresses are not kept in the limiter store, only a digest of them.
  const accountKey = (account: string): string => sha256Hex(account.trim().toLowerCase()).slice(0, 40)

  async function consume(limiter: RateLimiterAbstract, key: string): Promise<number> {
    try {
      await limiter.consume(key)
      return 0
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) return Math.max(1, Math.ceil(rejection.msBeforeNext / 1000))
      throw rejection
    }
  }

  return {
    async take(account, source) {
      const waits = await Promise.all([
        consume(accounts, accountKey(account)),
        source ? consume(sources, source) : Promise.resolve(0),
      ])
      const wait = Math.max(...waits)
      if (wait > 0) {
        throw new ThrottledError(
          IAM_ERRORS.throttled,
          options.message ?? 'too many sign-in attempts; try again later',
          {
            publicCode: 'too_many_attempts',
            retryAfter: wait,
          },
        )
      }
    },
    async succeeded(account, source) {
      await accounts.delete(accountKey(account))
      if (source) await sources.reward(source, 1)
    },
  }
}
