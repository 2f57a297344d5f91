import type { Redis as RedisClient } from 'ioredis'
import type { Throttle, ThrottleDecision } from './types.js'

/**
 * A token bucket in Redis, taken atomically by one script: the same limit holds across every edge worker and
 * every Palisade host that shares the Redis server. The bucket's clock is Redis's own (`TIME`), so hosts with
 * skewed clocks refill it alike. A bucket left alone expires once it would be full again.
 */
const TAKE_SCRIPT = `
if redis.replicate_commands then pcall(redis.replicate_commands) end
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local bucket = redis.call('HMGET', KEYS[1], 't', 'u')
local tokens = tonumber(bucket[1]) or capacity
local updated = tonumber(bucket[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - updated) / 1000 * rate)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'u', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000) + 1000)
if allowed == 1 then return {1, 0} end
return {0, math.max(1, math.ceil((1 - tokens) / rate))}
`

interface WithTake {
  palisadeThrottleTake(key: string, rate: number, capacity: number): Promise<[number, number]>
}

const ALLOWED: ThrottleDecision = Object.freeze({ allowed: true, retryAfterSeconds: 0 })

/**
 * `failOpen` decides when Redis does not answer (down, slow, refusing): the request throttle lets traffic pass
 * (an availability limit), the Basic-auth guess limit refuses the slow check for a few seconds (a security limit).
 * `onError` hears each failure (to log it; never the key, which holds a client address).
 */
export function createRedisThrottle(
  redis: RedisClient,
  options: {
    readonly prefix: string
    readonly failOpen: boolean
    readonly onError?: (error: unknown) => void
  },
): Throttle {
  redis.defineCommand('palisadeThrottleTake', { numberOfKeys: 1, lua: TAKE_SCRIPT })
  const client = redis as unknown as WithTake
  const fallback: ThrottleDecision = Object.freeze({
    allowed: options.failOpen,
    retryAfterSeconds: options.failOpen ? 0 : 5,
  })
  return {
    async take(key, requestsPerSecond, burst) {
      if (requestsPerSecond <= 0) return ALLOWED
      try {
        const [allowed, retry] = await client.palisadeThrottleTake(
          options.prefix + key,
          requestsPerSecond,
          Math.max(1, burst),
        )
        return allowed === 1 ? ALLOWED : { allowed: false, retryAfterSeconds: retry }
      } catch (error) {
        options.onError?.(error)
        return fallback
      }
    },
  }
}
