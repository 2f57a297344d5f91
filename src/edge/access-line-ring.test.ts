import assert from 'node:assert/strict'
import { test } from 'node:test'
import { AccessLineRing } from './access-line-ring.js'

test('the ring keeps the newest lines of each environment, in order', () => {
  const ring = new AccessLineRing(1024)
  for (let i = 0; i < 5; i++) ring.push('env_a', `a line ${i}`)
  ring.push('env_b', 'b line')
  assert.deepEqual(ring.recent('env_a'), ['a line 0', 'a line 1', 'a line 2', 'a line 3', 'a line 4'])
  assert.deepEqual(ring.recent('env_b'), ['b line'])
  assert.deepEqual(ring.recent('env_c'), [])
})

test('past its capacity the ring keeps the newest whole lines and never more bytes', () => {
  const ring = new AccessLineRing(1024)
  const all: string[] = []
  for (let i = 0; i < 500; i++) {
    const line = `line ${i} ${'x'.repeat(i % 37)}`
    all.push(line)
    ring.push('env_a', line)
    const kept = ring.recent('env_a')
    // Always a tail of what was pushed, ending with the newest line.
    assert.deepEqual(kept, all.slice(all.length - kept.length), `after ${i}`)
    assert.ok(kept.length > 0)
  }
  assert.ok(ring.bytes() <= 1024)
  assert.ok(ring.recent('env_a').join('\n').length > 800, 'most of the capacity holds lines')
})

test('multi-byte characters survive the wrap', () => {
  const ring = new AccessLineRing(1024)
  const all: string[] = []
  for (let i = 0; i < 200; i++) {
    const line = `/caf\u00e9/${i}/\u{1f600}${'\u00fc'.repeat(i % 11)}`
    all.push(line)
    ring.push('env_a', line)
  }
  const kept = ring.recent('env_a')
  assert.deepEqual(kept, all.slice(all.length - kept.length))
})

test('a line longer than the cut is kept cut; forget drops an environment', () => {
  const ring = new AccessLineRing(64 * 1024)
  ring.push('env_a', 'y'.repeat(40_000))
  const [line] = ring.recent('env_a')
  assert.equal(line?.length, 16 * 1024 - 1)
  ring.forget('env_a')
  assert.deepEqual(ring.recent('env_a'), [])
  assert.equal(ring.bytes(), 0)
  assert.throws(() => new AccessLineRing(10), RangeError)
})

test('a ring filled exactly, then written round line by line, loses no whole line', () => {
  const ring = new AccessLineRing(1024)
  const all: string[] = []
  for (let i = 0; i < 40; i++) {
    const line = `${String(i).padStart(2, '0')}${'z'.repeat(61)}` // 64 bytes with its line break
    all.push(line)
    ring.push('env_a', line)
    const kept = ring.recent('env_a')
    assert.deepEqual(kept, all.slice(-Math.min(16, all.length)), `after ${i}`)
  }
})
