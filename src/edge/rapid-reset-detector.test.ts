import assert from 'node:assert/strict'
import { test } from 'node:test'
import { RapidResetDetector } from './rapid-reset-detector.js'

const LIMITS = { minCancelledStreams: 200, maxCancelledShare: 0.5 }

/** Opens `opened` streams and cancels `cancelled` of them; returns the cancellation that tripped, or 0. */
function trippedAt(opened: number, cancelled: number): number {
  const detector = new RapidResetDetector(LIMITS)
  for (let i = 1; i <= opened; i++) {
    detector.streamOpened()
    if (i <= cancelled && detector.streamCancelled()) return i
  }
  return 0
}

test('a client cancelling every stream it opens (rapid reset) is a flood at the 200th cancellation', () => {
  assert.equal(trippedAt(20_000, 20_000), 200)
})

test('a client cancelling 199 streams and nothing else is not a flood', () => {
  assert.equal(trippedAt(199, 199), 0)
})

test('a browser cancelling a few streams among its requests is never a flood', () => {
  assert.equal(trippedAt(50, 50), 0)
  assert.equal(trippedAt(10_000, 150), 0)
})

test('a long session cancelling many streams but fewer than half of them is not a flood', () => {
  const detector = new RapidResetDetector(LIMITS)
  for (let i = 0; i < 3_000; i++) {
    detector.streamOpened()
    detector.streamOpened()
    detector.streamOpened()
    assert.equal(detector.streamCancelled(), false)
  }
  assert.equal(detector.isRapidReset, false)
})

test('cancellations that reach half of the opened streams after the minimum are a flood', () => {
  const detector = new RapidResetDetector(LIMITS)
  for (let i = 0; i < 1_000; i++) detector.streamOpened()
  let cancelled = 0
  while (!detector.streamCancelled()) cancelled++
  assert.equal(cancelled + 1, 500)
})
