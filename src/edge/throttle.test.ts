import assert from 'node:assert/strict'
import { test } from 'node:test'
import { clientKey, MemoryThrottle } from './throttle.js'

test('a bucket allows its burst, then refuses with a Retry-After, then refills with time', () => {
  let now = 1_000_000
  const throttle = new MemoryThrottle({ now: () => now })
  const results = Array.from({ length: 4 }, () => throttle.take('env|1.2.3.4', 2, 3).allowed)
  assert.deepEqual(results, [true, true, true, false])
  assert.equal(throttle.take('env|1.2.3.4', 2, 3).retryAfterSeconds, 1)
  now += 500 // 2 per second → one token back
  assert.equal(throttle.take('env|1.2.3.4', 2, 3).allowed, true)
  assert.equal(throttle.take('env|1.2.3.4', 2, 3).allowed, false)
})

test('a slow rate reports a Retry-After long enough to refill one token', () => {
  const throttle = new MemoryThrottle({ now: () => 0 })
  throttle.take('k', 0.1, 1)
  assert.equal(throttle.take('k', 0.1, 1).retryAfterSeconds, 10)
})

test('a rate of zero turns throttling off', () => {
  const throttle = new MemoryThrottle({ now: () => 0 })
  for (let i = 0; i < 100; i++) assert.equal(throttle.take('k', 0, 0).allowed, true)
  assert.equal(throttle.size, 0)
})

test('rotating client keys cannot grow the table past its bound (memory exhaustion)', () => {
  const throttle = new MemoryThrottle({ maxKeys: 100, now: () => 0 })
  for (let i = 0; i < 10_000; i++) throttle.take(`env|10.0.${i >> 8}.${i & 255}`, 1, 1)
  assert.equal(throttle.size, 100)
})

test('IPv6 clients share the bucket of their /64 and IPv4-mapped addresses are plain IPv4', () => {
  assert.equal(clientKey('2001:db8:1:2:aaaa::1'), clientKey('2001:db8:1:2:bbbb:cccc:dddd:eeee'))
  assert.notEqual(clientKey('2001:db8:1:2::1'), clientKey('2001:db8:1:3::1'))
  assert.equal(clientKey('::ffff:192.0.2.7'), '192.0.2.7')
  assert.equal(clientKey('192.0.2.7'), '192.0.2.7')
})
