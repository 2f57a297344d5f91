import assert from 'node:assert/strict'
import { test } from 'node:test'
import { KeyedRing } from './keyed-ring.js'

test('a keyed ring keeps the newest items of each key, oldest first', () => {
  const ring = new KeyedRing<number>(3)
  for (let i = 1; i <= 5; i++) ring.push('a', i)
  ring.push('b', 10)
  assert.deepEqual(ring.recent('a'), [3, 4, 5])
  assert.deepEqual(ring.recent('b'), [10])
  assert.deepEqual(ring.recent('c'), [])
  ring.push('a', 6)
  assert.deepEqual(ring.recent('a'), [4, 5, 6])
  ring.forget('a')
  assert.deepEqual(ring.recent('a'), [])
})

test('what recent returns is a copy', () => {
  const ring = new KeyedRing<number>(2)
  ring.push('a', 1)
  const seen = ring.recent('a')
  seen.push(99)
  assert.deepEqual(ring.recent('a'), [1])
})

test('a ring must keep at least one item', () => {
  assert.throws(() => new KeyedRing<number>(0), RangeError)
  assert.throws(() => new KeyedRing<number>(1.5), RangeError)
})
