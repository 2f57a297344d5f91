import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import { Redis } from 'ioredis'
import { createRedisThrottle } from './redis-throttle.js'

/** Redis used by the suite (the Debian redis-server on its default port unless told; `.ci/run` starts it). */
const REDIS_URL = process.env['PALISADE_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379'

function client(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: 1, connectTimeout: 2_000, commandTimeout: 1_000 })
}

test('two processes sharing Redis share one bucket per client', async (t) => {
  const a = client(REDIS_URL)
  const b = client(REDIS_URL)
  t.after(() => {
    a.disconnect()
    b.disconnect()
  })
  const prefix = `palisade-test:${randomBytes(6).toString('hex')}:`
  const one = createRedisThrottle(a, { prefix, failOpen: true })
  const two = createRedisThrottle(b, { prefix, failOpen: true })
  // A burst of 6 at 0.5/s: the first 6 pass whichever process asks, the next ones wait about 2 s.
  const answers = []
  for (let i = 0; i < 10; i++)
    answers.push(await (i % 2 === 0 ? one : two).take('env_a:198.51.100.7', 0.5, 6))
  assert.equal(answers.filter((d) => d.allowed).length, 6)
  const refused = answers.filter((d) => !d.allowed)
  assert.equal(refused.length, 4)
  for (const d of refused)
    assert.ok(d.retryAfterSeconds >= 1 && d.retryAfterSeconds <= 2, String(d.retryAfterSeconds))
  // Another client has its own bucket; no limit means no bucket at all.
  assert.equal((await one.take('env_a:198.51.100.8', 0.5, 6)).allowed, true)
  assert.equal((await one.take('env_b:198.51.100.9', 0, 0)).allowed, true)
  assert.equal(await a.exists(`${prefix}env_b:198.51.100.9`), 0)
  // A bucket left alone expires once it would be full again (6 tokens at 0.5/s: 12 s, plus a second).
  const ttl = await a.pttl(`${prefix}env_a:198.51.100.7`)
  assert.ok(ttl > 0 && ttl <= 13_000, `expires in ${ttl} ms`)
  await a.del(`${prefix}env_a:198.51.100.7`, `${prefix}env_a:198.51.100.8`)
})

test('without Redis the request throttle lets traffic pass and the guess limit refuses', async (t) => {
  // A port nothing listens on: every command fails.
  const down = new Redis('redis://127.0.0.1:1', {
    maxRetriesPerRequest: 0,
    connectTimeout: 500,
    commandTimeout: 500,
    retryStrategy: () => null,
  })
  down.on('error', () => {})
  t.after(() => down.disconnect())
  const errors: unknown[] = []
  const edge = createRedisThrottle(down, { prefix: 'x:', failOpen: true, onError: (e) => errors.push(e) })
  const login = createRedisThrottle(down, { prefix: 'y:', failOpen: false, onError: (e) => errors.push(e) })
  assert.deepEqual(await edge.take('k', 1, 1), { allowed: true, retryAfterSeconds: 0 })
  assert.deepEqual(await login.take('k', 1, 1), { allowed: false, retryAfterSeconds: 5 })
  assert.equal(errors.length, 2)
})
