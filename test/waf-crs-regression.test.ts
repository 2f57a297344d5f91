/**
 * The OWASP CRS 3.3.4 regression suite against Palisade's WAF engine. One test per YAML file asserts
 * that the file's pass count has not dropped below test/waf/crs-baseline.json; a last test checks the
 * total. Palisade's own rule set tests (CRS YAML format, run after CRS) are in the same baseline, under
 * `palisade`: every file keeps its count and every recorded file is still there. Regenerate the baseline
 * (after an improvement) with:
 *   node --import tsx test/waf/update-crs-baseline.ts
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import {
  createWaf,
  loadRegressionFiles,
  palisadeTestRuleSet,
  runFile,
  upstreamTestRuleSet,
  type FileResult,
} from '../src/waf/crs/regression.js'
import { CRS_RULES_DIR, CRS_TESTS_DIR, crsAvailable } from './waf/crs-paths.js'
import { createFsSource } from './waf/fs-source.js'

interface Counts {
  total: { pass: number; enabled: number }
  files: Record<string, { pass: number; fail: number; skip: number }>
}
type Baseline = Counts & { palisade: Counts }

const available = crsAvailable()
if (!available.ok) {
  test('CRS regression suite', { skip: available.why }, () => {})
} else {
  const baseline = JSON.parse(
    readFileSync(new URL('./waf/crs-baseline.json', import.meta.url), 'utf8'),
  ) as Baseline
  const source = createFsSource()
  const waf = createWaf(upstreamTestRuleSet(CRS_RULES_DIR, source))
  const files = loadRegressionFiles(CRS_TESTS_DIR, source)
  const results: FileResult[] = []

  test('the regression data loads (178 files, 2396 enabled tests)', () => {
    assert.equal(files.length, 178)
    const enabled = files.filter((f) => f.enabled).reduce((n, f) => n + f.cases.length, 0)
    assert.equal(enabled, 2396)
  })

  for (const f of files) {
    test(`${f.folder}/${f.name} passes at least its recorded count`, () => {
      const r = runFile(waf, f)
      results.push(r)
      const want = baseline.files[`${f.folder}/${f.name}`]
      assert.ok(want, `no baseline entry for ${f.folder}/${f.name}`)
      assert.ok(
        r.pass >= want.pass,
        `${r.pass} passed, baseline ${want.pass}; failures:\n${r.failures.map((x) => `  ${x.title}: ${x.reason}`).join('\n')}`,
      )
    })
  }

  test('the total pass count is at least the recorded one and ≥ 97% of enabled tests', () => {
    assert.equal(results.length, files.length)
    const pass = results.reduce((n, r) => n + r.pass, 0)
    assert.ok(pass >= baseline.total.pass, `${pass} passed, baseline ${baseline.total.pass}`)
    assert.ok(pass / baseline.total.enabled >= 0.97, `${pass}/${baseline.total.enabled} is below 97%`)
  })

  const palisadeWaf = createWaf(palisadeTestRuleSet(CRS_RULES_DIR, source))
  const palisadeFiles = loadRegressionFiles(
    fileURLToPath(new URL('../src/waf/crs/testdata/palisade', import.meta.url)),
    source,
  )

  test('every Palisade rule set file of the baseline is still there', () => {
    const have = new Set(palisadeFiles.map((f) => `${f.folder}/${f.name}`))
    const recorded = Object.keys(baseline.palisade.files)
    assert.ok(recorded.length > 0)
    for (const key of recorded) assert.ok(have.has(key), `${key} is in the baseline but not in testdata`)
  })

  for (const f of palisadeFiles) {
    test(`Palisade ${f.folder}/${f.name} passes at least its recorded count`, () => {
      const r = runFile(palisadeWaf, f)
      const want = baseline.palisade.files[`${f.folder}/${f.name}`]
      assert.ok(want, `no baseline entry for ${f.folder}/${f.name} (run test/waf/update-crs-baseline.ts)`)
      assert.ok(
        r.pass >= want.pass,
        `${r.pass} passed, baseline ${want.pass}; failures:\n${r.failures.map((x) => `  ${x.title}: ${x.reason}`).join('\n')}`,
      )
    })
  }
}
