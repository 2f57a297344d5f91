import assert from 'node:assert/strict'
import { test } from 'node:test'
import { MemoryBudget, RememberedValues, type BudgetedCache } from './memory-budget.js'
import { getRequest, wafOf } from './engine/test-helpers.js'
import { evaluateRequest } from './engine/waf.js'

/** A FIFO of entries costing `size` units each, charging `budget` as real caches do. */
function fifo(budget: MemoryBudget, size: number): BudgetedCache & { add(): void; entries: number } {
  const cache = {
    held: 0,
    entries: 0,
    add() {
      cache.entries++
      cache.held += size
      budget.charge(cache, size)
    },
    dropOldest() {
      if (cache.entries === 0) return 0
      cache.entries--
      cache.held -= size
      return size
    },
  }
  budget.join(cache)
  return cache
}

test('caches sharing a budget never hold more than its limit together', () => {
  const budget = new MemoryBudget(1000)
  const a = fifo(budget, 10)
  const b = fifo(budget, 30)
  for (let i = 0; i < 500; i++) {
    a.add()
    if (i % 3 === 0) b.add()
    assert.ok(budget.used <= 1000, `after ${i}: ${budget.used}`)
    assert.equal(budget.used, a.held + b.held)
  }
})

test('a cache below its share makes room by dropping the largest cache’s entries, not its own', () => {
  const budget = new MemoryBudget(1000)
  const busy = fifo(budget, 10)
  for (let i = 0; i < 100; i++) busy.add() // the whole budget
  const quiet = fifo(budget, 10)
  for (let i = 0; i < 20; i++) quiet.add()
  assert.equal(quiet.entries, 20, 'the quiet cache keeps what it adds')
  assert.equal(busy.entries, 80)
  // Past its share (500 of 1000) the quiet cache drops its own oldest instead.
  for (let i = 0; i < 100; i++) quiet.add()
  assert.equal(quiet.held, 500)
  assert.equal(budget.used, 1000)
})

test('leaving gives back what a cache held', () => {
  const budget = new MemoryBudget(1000)
  const a = fifo(budget, 10)
  const b = fifo(budget, 10)
  for (let i = 0; i < 30; i++) a.add()
  for (let i = 0; i < 20; i++) b.add()
  budget.leave(a)
  assert.equal(budget.used, 200)
})

const get = (q: string) => getRequest(`/?q=${q}`)

test('WAFs sharing a budget stay within it on endless new values, and a released WAF still judges right', () => {
  const rules = [
    'SecRule ARGS "@rx evil" "id:1,phase:1,t:none,t:lowercase,deny,log"',
    'SecRule ARGS "@pm attack" "id:2,phase:1,t:none,t:urlDecodeUni,deny,log"',
  ].join('\n')
  const budget = new MemoryBudget(20_000)
  const first = wafOf(rules, { memory: budget })
  const second = wafOf(rules, { memory: budget })
  for (let i = 0; i < 2000; i++) {
    const value = `visitor-${i}-${'x'.repeat(i % 50)}`
    assert.equal(evaluateRequest(i % 2 ? first : second, get(value)).action, 'allow')
    assert.ok(budget.used <= 20_000, `request ${i}: ${budget.used} units`)
  }
  assert.ok(budget.used > 10_000, 'both WAFs remembered values')
  first.release()
  const afterRelease = budget.used
  assert.ok(afterRelease < 20_000)
  for (let round = 0; round < 2; round++) {
    assert.equal(evaluateRequest(first, get('EVIL')).action, 'block')
    assert.equal(evaluateRequest(first, get('fine')).action, 'allow')
    assert.equal(evaluateRequest(first, get('an%2561ttack')).action, 'block')
  }
})

test('remembered values drop oldest first, count what they hold, and keep a replaced value in its place', () => {
  const values = new RememberedValues<string>(100, (key, value) => key.length + value.length)
  for (let i = 0; i < 5000; i++) values.add(`k${i}`, 'v')
  // The last entries cost 6 units each: the newest 16 fit in 100, every older one is gone.
  assert.ok(values.held <= 100)
  assert.equal(values.get('k4999'), 'v')
  assert.equal(values.get('k4984'), 'v')
  assert.equal(values.get('k4983'), undefined)
  assert.equal(values.get('k0'), undefined)
  let kept = 0
  for (let i = 0; i < 5000; i++) if (values.get(`k${i}`) !== undefined) kept++
  assert.equal(kept, 16)
  assert.equal(values.held, kept * 6)
  // A replaced value keeps its age: it is the next to go when it is the oldest.
  values.replace('k4984', 'v', 'vv')
  assert.equal(values.held, kept * 6 + 1)
  values.add('new', 'v')
  assert.equal(values.get('k4984'), undefined)
  assert.equal(values.get('k4985'), 'v')
  // Adding a key again replaces its value instead of counting it twice.
  values.add('new', 'w')
  assert.equal(values.get('new'), 'w')
  values.release()
  assert.equal(values.held, 0)
  assert.equal(values.get('new'), undefined)
})
