import assert from 'node:assert/strict'
import { test } from 'node:test'
import { loadRuleSet } from '../seclang/load.js'
import { markMissed, missed, MissMemo } from './miss-memo.js'
import type { WafRequest, WafSource } from './types.js'
import { createWaf, evaluateRequest } from './waf.js'

const source: WafSource = {
  readFile: () => {
    throw new Error('no files')
  },
  listFiles: () => [],
}

const get = (uri: string): WafRequest => ({
  method: 'GET',
  uri,
  protocol: 'HTTP/1.1',
  headers: [['Host', 'example.com']],
  remoteAddr: '10.0.0.1',
})

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
  const waf = createWaf(
    loadRuleSet({
      source,
      text: [
        'SecRule ARGS "@rx ^evil" "id:1,phase:1,t:none,t:lowercase,deny,log"',
        'SecRule ARGS:q "!@rx ^[a-z]+$" "id:2,phase:1,t:none,pass,log"',
        'SecRule ARGS "@pm attack" "id:3,phase:1,t:none,t:urlDecodeUni,deny,log"',
      ].join('\n'),
    }),
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
