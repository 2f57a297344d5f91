import assert from 'node:assert/strict'
import { test } from 'node:test'
import { loadRuleSet } from '../seclang/load.js'
import { MissMemo } from './miss-memo.js'
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

test('MissMemo forgets everything once the budget is spent, and never keeps a value longer than the limit', () => {
  const memo = new MissMemo(200, 50)
  const a = memo.create()
  const b = memo.create()
  memo.remember(a, 'x'.repeat(51))
  assert.equal(a.size, 0)
  memo.remember(a, 'one')
  memo.remember(b, 'two')
  assert.ok(a.has('one') && b.has('two'))
  for (let i = 0; i < 10; i++) memo.remember(b, `value-${i}`)
  assert.ok(a.size + b.size < 12, 'the sets were emptied when the budget ran out')
  assert.ok(!a.has('one'))
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
