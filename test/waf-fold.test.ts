/**
 * Folded rules (src/waf/engine/fold.ts) must give exactly the verdicts of evaluating every rule. Every request
 * of the CRS 3.3.4 regression suite (attacks and benign traffic alike) goes through Palisade's CRS set-up at
 * each paranoia level twice, with and without folding, and everything the engine reports must be the same.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildRequest, loadRegressionFiles } from '../src/waf/crs/regression.js'
import {
  createWaf,
  crsRuleSet,
  DEFAULT_WAF_SETTINGS,
  evaluateRequest,
  type Verdict,
  type WafRequest,
} from '../src/waf/index.js'
import { CRS_RULES_DIR, CRS_TESTS_DIR, crsAvailable } from './waf/crs-paths.js'
import { createFsSource } from './waf/fs-source.js'

/** What a verdict says, matched rules included (ids, messages, data, whether each logs or interrupts). */
function summary(v: Verdict): unknown {
  return {
    action: v.action,
    score: v.score,
    rules: v.rules,
    interruption: v.interruption,
    matched: v.matched.map((m) => [m.id, m.phase, m.msg, m.logdata, m.data, m.log, m.disruptive]),
  }
}

const available = crsAvailable()
if (!available.ok) {
  test('folded rules give the verdicts of evaluated ones', { skip: available.why }, () => {})
} else {
  const source = createFsSource()
  const requests: Array<{ title: string; req: WafRequest }> = []
  for (const f of loadRegressionFiles(CRS_TESTS_DIR, source)) {
    for (const c of f.cases) {
      const req = buildRequest(c.input)
      if (req) requests.push({ title: c.title, req })
    }
  }

  for (const paranoia of [1, 2, 3, 4] as const) {
    test(`paranoia ${paranoia}: folded rules give the verdicts of evaluated ones on ${requests.length} requests`, () => {
      const ruleSet = (): ReturnType<typeof crsRuleSet> =>
        crsRuleSet(CRS_RULES_DIR, { ...DEFAULT_WAF_SETTINGS, paranoia }, source)
      const folded = createWaf(ruleSet())
      const evaluated = createWaf(ruleSet(), { fold: false })
      let blocked = 0
      for (const { title, req } of requests) {
        const a = evaluateRequest(folded, req)
        assert.deepEqual(summary(a), summary(evaluateRequest(evaluated, req)), title)
        if (a.action === 'block') blocked++
      }
      assert.ok(blocked > requests.length / 3, `the attacks are blocked (${blocked})`)
    })
  }
}
