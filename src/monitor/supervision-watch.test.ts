import assert from 'node:assert/strict'
import { test } from 'node:test'
import { CrashLoopWatch } from './supervision-watch.js'

test('five restarts within ten minutes make a crash loop; a window without restarts while running ends it', () => {
  const w = new CrashLoopWatch({ restarts: 5, windowMs: 600_000 })
  const t0 = 1_000_000
  w.observe([{ environmentId: 'env_a', state: 'running', restarts: 0 }], t0)
  for (let i = 1; i <= 4; i++)
    w.observe([{ environmentId: 'env_a', state: 'backoff', restarts: i }], t0 + i * 1000)
  assert.equal(w.recentRestarts('env_a'), 4)
  assert.ok(!w.looping().has('env_a'))
  w.observe([{ environmentId: 'env_a', state: 'backoff', restarts: 5 }], t0 + 5000)
  assert.ok(w.looping().has('env_a'))
  // Restarts spread over more than the window are not a loop.
  const b = new CrashLoopWatch({ restarts: 3, windowMs: 60_000 })
  for (let i = 1; i <= 6; i++)
    b.observe([{ environmentId: 'env_b', state: 'running', restarts: i }], t0 + i * 61_000)
  assert.ok(!b.looping().has('env_b'))
  // Up for a whole window: over.
  w.observe([{ environmentId: 'env_a', state: 'running', restarts: 5 }], t0 + 700_000)
  assert.ok(!w.looping().has('env_a'))
  // A new process (restarts back to 0 after a deploy) starts a new count; a removed environment is forgotten.
  w.observe([{ environmentId: 'env_a', state: 'running', restarts: 0 }], t0 + 701_000)
  assert.equal(w.recentRestarts('env_a'), 0)
  w.observe([], t0 + 702_000)
  assert.equal(w.recentRestarts('env_a'), 0)
})
