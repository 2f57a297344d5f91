/**
 * Palisade's rule set (src/waf/crs/palisade-rules.ts) against its own regression tests, written in
 * the CRS YAML format (src/waf/crs/testdata/palisade): one test per case, every case must pass.
 */
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'
import { createWaf, loadRegressionFiles, palisadeTestRuleSet, runCase } from '../src/waf/crs/regression.js'
import { CRS_RULES_DIR, crsAvailable } from './waf/crs-paths.js'
import { createFsSource } from './waf/fs-source.js'

const TESTS = fileURLToPath(new URL('../src/waf/crs/testdata/palisade', import.meta.url))
const available = crsAvailable()

if (!available.ok) {
  test('Palisade rule set regression tests', { skip: available.why }, () => {})
} else {
  const source = createFsSource()
  const waf = createWaf(palisadeTestRuleSet(CRS_RULES_DIR, source))
  const files = loadRegressionFiles(TESTS, source)
  const cases = files.flatMap((f) => f.cases)

  test('the Palisade regression data loads', () => {
    assert.ok(files.length >= 15)
    assert.ok(cases.length > 0)
  })

  for (const c of cases) {
    test(`${c.title} (${c.file}) is detected or passed as its YAML expects`, () => {
      const o = runCase(waf, c)
      assert.equal(o.kind, 'pass', o.kind === 'fail' ? o.reason : '')
    })
  }
}
