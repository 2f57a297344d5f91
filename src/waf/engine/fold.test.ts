import assert from 'node:assert/strict'
import { test } from 'node:test'
import { loadRuleSet } from '../seclang/load.js'
import { compilePhases } from './program.js'
import { getRequest, NO_FILES, wafOf } from './test-helpers.js'
import type { WafRequest } from './types.js'
import { evaluateRequest } from './waf.js'

/** The ids of phases 1-2 rules folded as never matching and as matching. */
function folds(text: string): { never: number[]; match: number[] } {
  const { phases } = compilePhases(loadRuleSet({ text, source: NO_FILES }))
  const never: number[] = []
  const match: number[] = []
  for (const p of [1, 2]) {
    for (const step of phases[p]!.steps) {
      if (step?.fold === undefined) continue
      ;(step.fold.length === 0 ? never : match).push(step.id)
    }
  }
  return { never, match }
}

/** The same requests through the rules with and without folding: the verdicts must be the same. */
function sameVerdicts(text: string, requests: WafRequest[]): Array<'block' | 'allow'> {
  const folded = wafOf(text)
  const evaluated = wafOf(text, { fold: false })
  return requests.map((req) => {
    const a = evaluateRequest(folded, req)
    const b = evaluateRequest(evaluated, req)
    assert.deepEqual(
      [a.action, a.score, a.rules, a.matched.map((m) => m.id)],
      [b.action, b.score, b.rules, b.matched.map((m) => m.id)],
      req.uri,
    )
    return a.action
  })
}

const withHeader = (name: string, value: string): WafRequest =>
  getRequest('/', {
    headers: [
      ['Host', 'example.com'],
      [name, value],
    ],
  })

test('paranoia-level checks and set-up defaults fold; rules on request data do not', () => {
  const text = [
    'SecAction "id:1,phase:1,pass,nolog,setvar:tx.paranoia_level=1"',
    'SecRule &TX:threshold "@eq 0" "id:2,phase:1,pass,nolog,setvar:tx.threshold=5"',
    'SecRule TX:PARANOIA_LEVEL "@lt 1" "id:3,phase:1,pass,nolog,skipAfter:END-A"',
    'SecRule ARGS "@rx evil" "id:4,phase:1,deny,log"',
    'SecRule TX:PARANOIA_LEVEL "@lt 2" "id:5,phase:1,pass,nolog,skipAfter:END-A"',
    'SecRule ARGS "@rx wicked" "id:6,phase:1,deny,log"',
    'SecMarker END-A',
    'SecRule TX:THRESHOLD "@ge 5" "id:7,phase:2,pass,nolog,setvar:tx.score=+%{tx.threshold}"',
    'SecRule TX:SCORE "@eq 5" "id:8,phase:2,deny,status:403,log"',
  ].join('\n')
  assert.deepEqual(folds(text), { never: [3], match: [1, 2, 5, 7, 8] })
  // Rule 6 is skipped at paranoia 1 on every request, so it gets no fold; 8 denies every request.
  assert.deepEqual(sameVerdicts(text, [getRequest('/?q=evil'), getRequest('/?q=wicked')]), ['block', 'block'])
})

test('paths that join at a marker make what they disagree on unknown', () => {
  const text = [
    'SecAction "id:1,phase:1,pass,nolog,setvar:tx.a=1,setvar:tx.b=1"',
    'SecRule ARGS:x "@streq jump" "id:2,phase:1,pass,nolog,skipAfter:END"',
    'SecAction "id:3,phase:1,pass,nolog,setvar:tx.a=2"',
    'SecMarker END',
    'SecRule TX:A "@eq 2" "id:4,phase:1,deny,log"',
    'SecRule TX:B "@eq 1" "id:5,phase:1,pass,log"',
  ].join('\n')
  assert.deepEqual(folds(text), { never: [], match: [1, 3, 5] })
  assert.deepEqual(sameVerdicts(text, [getRequest('/?x=jump'), getRequest('/?x=stay')]), ['allow', 'block'])
})

test('a ctl that removes a rule at run time stops the folds for the rest of the request', () => {
  const text = [
    'SecAction "id:1,phase:1,pass,nolog,setvar:tx.level=1"',
    'SecRule REQUEST_HEADERS:X-Off "@streq yes" "id:2,phase:1,pass,nolog,ctl:ruleRemoveById=3"',
    'SecAction "id:3,phase:1,pass,nolog,setvar:tx.level=2"',
    'SecRule TX:LEVEL "@eq 2" "id:4,phase:1,deny,log"',
  ].join('\n')
  assert.deepEqual(folds(text).match, [1, 3, 4])
  // Rule 4 is folded as matching (rule 3 always sets level 2), unless rule 3 was removed for this request.
  assert.deepEqual(sameVerdicts(text, [withHeader('X-Off', 'yes'), withHeader('X-Off', 'no')]), [
    'allow',
    'block',
  ])
})

test('a setvar whose name depends on the request makes the keys it could name unknown, and only those', () => {
  const text = [
    'SecAction "id:1,phase:1,pass,nolog,setvar:tx.h_foo=0,setvar:tx.other=0"',
    'SecRule REQUEST_HEADERS:X-Name "@rx ^(.*)$" "id:2,phase:1,pass,nolog,capture,setvar:\'tx.h_%{tx.1}=1\'"',
    'SecRule TX:H_FOO "@eq 1" "id:3,phase:1,deny,log"',
    'SecRule TX:OTHER "@eq 0" "id:4,phase:1,pass,log"',
  ].join('\n')
  assert.deepEqual(folds(text), { never: [], match: [1, 4] })
  assert.deepEqual(sameVerdicts(text, [withHeader('X-Name', 'foo'), withHeader('X-Name', 'bar')]), [
    'block',
    'allow',
  ])
})

test('arithmetic on known values folds; on values a request changes it does not', () => {
  const text = [
    'SecAction "id:1,phase:1,pass,nolog,setvar:tx.score=0"',
    'SecAction "id:2,phase:1,pass,nolog,setvar:tx.score=+3"',
    'SecRule TX:SCORE "@eq 3" "id:3,phase:1,pass,log"',
    'SecRule ARGS "@rx bad" "id:4,phase:1,pass,nolog,setvar:tx.score=+5"',
    'SecRule TX:SCORE "@ge 5" "id:5,phase:1,deny,log"',
  ].join('\n')
  assert.deepEqual(folds(text), { never: [], match: [1, 2, 3] })
  assert.deepEqual(sameVerdicts(text, [getRequest('/?q=bad'), getRequest('/?q=good')]), ['block', 'allow'])
})

test('in DetectionOnly a folded deny does not end the path, and nothing folds with the engine off', () => {
  const rules = [
    'SecAction "id:1,phase:1,pass,nolog,setvar:tx.a=1"',
    'SecRule TX:A "@eq 1" "id:2,phase:1,deny,log"',
    'SecRule TX:A "@eq 1" "id:3,phase:1,pass,log"',
  ]
  assert.deepEqual(folds(['SecRuleEngine DetectionOnly', ...rules].join('\n')).match, [1, 2, 3])
  assert.deepEqual(folds(['SecRuleEngine On', ...rules].join('\n')).match, [1, 2])
  assert.deepEqual(folds(['SecRuleEngine Off', ...rules].join('\n')), { never: [], match: [] })
  sameVerdicts(['SecRuleEngine DetectionOnly', ...rules].join('\n'), [getRequest('/')])
})

test('effects that run once per match are followed through every run (a key named after a count)', () => {
  const text = [
    'SecAction "id:1,phase:1,pass,nolog,setvar:tx.n=0"',
    'SecRule ARGS "@rx ." "id:2,phase:1,pass,nolog,setvar:\'tx.seen_%{tx.n}=1\',setvar:tx.n=+1"',
    'SecRule &TX:seen_1 "@eq 1" "id:3,phase:1,deny,log"',
  ].join('\n')
  assert.deepEqual(folds(text), { never: [], match: [1] })
  assert.deepEqual(sameVerdicts(text, [getRequest('/?a=1&b=2'), getRequest('/?a=1')]), ['block', 'allow'])
})
