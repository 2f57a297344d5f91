import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Balancer, upstreamsOf } from './balancer.js'
import type { EdgeUpstream } from './types.js'
import { upstreamKey } from './upstream-pool.js'

const a: EdgeUpstream = { socketPath: '/s/a.sock' }
const b: EdgeUpstream = { socketPath: '/s/b.sock' }
const c: EdgeUpstream = { host: '127.0.0.1', port: 3000 }

test('with equal load, requests go round robin over every instance', () => {
  const bal = new Balancer({ inFlight: () => 0 })
  const seen = Array.from({ length: 6 }, () => upstreamKey(bal.pick([a, b, c]) as EdgeUpstream))
  assert.deepEqual(new Set(seen).size, 3)
  assert.equal(seen.filter((k) => k === upstreamKey(a)).length, 2)
})

test('the instance with the fewest requests in flight is chosen', () => {
  const load = new Map([
    [upstreamKey(a), 5],
    [upstreamKey(b), 1],
    [upstreamKey(c), 3],
  ])
  const bal = new Balancer({ inFlight: (k) => load.get(k) ?? 0 })
  for (let i = 0; i < 4; i++) assert.equal(bal.pick([a, b, c]), b)
})

test('an instance whose connection failed is passed over until its time is up, or it answers', () => {
  let now = 1_000
  const bal = new Balancer({ inFlight: () => 0, now: () => now, downMs: 2_000 })
  bal.markDown(upstreamKey(a))
  for (let i = 0; i < 4; i++) assert.equal(bal.pick([a, b]), b)
  now += 2_001
  const picked = new Set(Array.from({ length: 4 }, () => bal.pick([a, b])))
  assert.ok(picked.has(a))
  bal.markDown(upstreamKey(b))
  bal.markUp(upstreamKey(b))
  assert.equal(new Set(Array.from({ length: 4 }, () => bal.pick([a, b]))).size, 2)
})

test('when every instance is down one is still chosen; excluded ones never are', () => {
  const bal = new Balancer({ inFlight: () => 0 })
  bal.markDown(upstreamKey(a))
  bal.markDown(upstreamKey(b))
  assert.ok(bal.pick([a, b]))
  assert.equal(bal.pick([a, b], new Set([upstreamKey(a)])), b)
  assert.equal(bal.pick([a, b], new Set([upstreamKey(a), upstreamKey(b)])), null)
})

test('a target without a list of upstreams has its single upstream', () => {
  assert.deepEqual(upstreamsOf({ kind: 'proxy', upstream: a }), [a])
  assert.deepEqual(upstreamsOf({ kind: 'proxy', upstream: a, upstreams: [a, b] }), [a, b])
})
