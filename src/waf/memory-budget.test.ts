import assert from 'node:assert/strict'
import { test } from 'node:test'
import { MemoryBudget, type BudgetedCache } from './memory-budget.js'
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
