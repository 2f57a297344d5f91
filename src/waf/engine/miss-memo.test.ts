import assert from 'node:assert/strict'
import { test } from 'node:test'
import { keepCommonMisses, markMissed, missed, MissMemo } from './miss-memo.js'
import { getRequest as get, wafOf } from './test-helpers.js'
import type { WafRequest } from './types.js'
import { evaluateRequest } from './waf.js'

test('MissMemo keeps a bit per rule and value, drops the oldest values past its budget, never keeps long ones', () => {
  const memo = new MissMemo(300, 50)
  const first = memo.enrol()
  const second = memo.enrol()
  assert.equal(memo.record('x'.repeat(51)), undefined)
  const one = memo.record('one')!
  markMissed(one, second)
  assert.ok(missed(memo.record('one')!, second), 'the same record comes back for the same value')
  assert.ok(!missed(one, first))
  for (let i = 0; i < 10; i++) memo.record(`value-${i}`)
  assert.ok(!missed(memo.record('one')!, second), 'the oldest record was dropped for the budget')
})

test('a value remembered as a miss gives the same verdicts on every later request, negated rules included', () => {
  const waf = wafOf(
    [
      'SecRule ARGS "@rx ^evil" "id:1,phase:1,t:none,t:lowercase,deny,log"',
      'SecRule ARGS:q "!@rx ^[a-z]+$" "id:2,phase:1,t:none,pass,log"',
      'SecRule ARGS "@pm attack" "id:3,phase:1,t:none,t:urlDecodeUni,deny,log"',
    ].join('\n'),
  )
  for (let round = 0; round < 3; round++) {
    assert.deepEqual(evaluateRequest(waf, get('/?q=fine')).rules, [], `round ${round}`)
    // The same value under another rule's transformations: id 1 lowercases it and matches.
    assert.equal(evaluateRequest(waf, get('/?q=EVIL')).action, 'block')
    // Negated: the operator misses, so the rule matches, every time.
    assert.deepEqual(evaluateRequest(waf, get('/?q=Fine1')).rules, [2])
    assert.equal(evaluateRequest(waf, get('/?x=an%2561ttack')).action, 'block')
  }
})

test('keepCommonMisses keeps the bits both records have and says whether any is left', () => {
  const a = [0b1011, 0b0001]
  assert.ok(keepCommonMisses(a, [0b0010, 0b0000]))
  assert.deepEqual(a, [0b0010, 0])
  assert.ok(!keepCommonMisses(a, [0b0100, 0b1111]))
  assert.deepEqual(a, [0, 0])
})

test('a list whose values all missed before is skipped whole; a new or matching value in it is still tested', () => {
  const waf = wafOf(
    [
      'SecRule REQUEST_HEADERS "@rx evil" "id:1,phase:1,t:none,t:lowercase,deny,log"',
      'SecRule REQUEST_HEADERS:/^x-/ "@rx bad" "id:2,phase:1,t:none,pass,log"',
      'SecRule REQUEST_HEADERS|!REQUEST_HEADERS:Referer "@pm attack" "id:3,phase:1,t:none,pass,log"',
      'SecRule &REQUEST_HEADERS:/^x-/ "@eq 2" "id:4,phase:1,t:none,pass,log"',
      'SecRule REQUEST_HEADERS:User-Agent "!@rx ^browser" "id:5,phase:1,t:none,pass,log"',
    ].join('\n'),
  )
  const withHeaders = (...extra: Array<[string, string]>): WafRequest => ({
    ...get('/'),
    headers: [
      ['Host', 'example.com'],
      ['User-Agent', 'robot'],
      ['X-One', 'fine'],
      ['Referer', 'attack'],
      ...extra,
    ],
  })
  for (let round = 0; round < 3; round++) {
    // Every header value is seen again each round: the rules skip the lists they missed in before.
    assert.deepEqual(evaluateRequest(waf, withHeaders()).rules, [5], `round ${round}: only the negated rule`)
    assert.deepEqual(evaluateRequest(waf, withHeaders(['X-Two', 'bad'])).rules, [2, 4, 5], `round ${round}`)
    assert.deepEqual(evaluateRequest(waf, withHeaders(['Accept', 'attack'])).rules, [3, 5], `round ${round}`)
    assert.equal(evaluateRequest(waf, withHeaders(['Accept', 'EVIL'])).action, 'block', `round ${round}`)
    // A header that only the excluded or unselected keys carry stays unmatched.
    assert.deepEqual(evaluateRequest(waf, withHeaders(['Accept', 'bad'])).rules, [5], `round ${round}`)
  }
})

test('a multiMatch rule remembers a value only when no stage of it matched, and a negated one never', () => {
  const waf = wafOf(
    [
      // Matches the raw `%2e%2e/` only after decoding: a later stage, not the first.
      'SecRule ARGS "@rx \\.\\./" "id:1,phase:1,t:none,t:urlDecodeUni,multiMatch,deny,log"',
      // Negated: matches as soon as one stage lacks a digit.
      'SecRule ARGS:n "!@rx [0-9]" "id:2,phase:1,t:none,t:removeWhitespace,multiMatch,pass,log"',
    ].join('\n'),
  )
  for (let round = 0; round < 3; round++) {
    assert.deepEqual(evaluateRequest(waf, get('/?a=fine&b=also')).rules, [], `round ${round}`)
    assert.equal(evaluateRequest(waf, get('/?a=fine&b=%252e%252e/x')).action, 'block', `round ${round}`)
    assert.deepEqual(evaluateRequest(waf, get('/?n=12')).rules, [], `round ${round}`)
    assert.deepEqual(evaluateRequest(waf, get('/?n=ab')).rules, [2], `round ${round}`)
  }
})
