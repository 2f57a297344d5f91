/**
 * Regenerates test/waf/crs-baseline.json and the per-file table in WAF.md from a run of the CRS
 * regression suite, and of Palisade's own rule set tests (src/waf/crs/testdata/palisade, CRS YAML format,
 * run with the rule set after CRS) recorded beside it under `palisade`.
 * Run: node --import tsx test/waf/update-crs-baseline.ts
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import {
  createWaf,
  loadRegressionFiles,
  palisadeTestRuleSet,
  runFile,
  upstreamTestRuleSet,
} from '../../src/waf/crs/regression.js'
import { CRS_RULES_DIR, CRS_TESTS_DIR } from './crs-paths.js'
import { createFsSource } from './fs-source.js'

const source = createFsSource()
const waf = createWaf(upstreamTestRuleSet(CRS_RULES_DIR, source))
const files = loadRegressionFiles(CRS_TESTS_DIR, source)
const out: Record<string, { pass: number; fail: number; skip: number }> = {}
const rows: string[] = []
const skips: string[] = []
const fails: string[] = []
let pass = 0
let enabled = 0
let fail = 0
let skip = 0
for (const f of files) {
  const r = runFile(waf, f)
  const key = `${f.folder}/${f.name}`
  out[key] = { pass: r.pass, fail: r.fail, skip: r.skip }
  if (f.enabled) enabled += f.cases.length
  pass += r.pass
  fail += r.fail
  skip += r.skip
  rows.push(
    `| ${key} | ${f.enabled ? r.pass : '-'} | ${f.enabled ? r.fail : '-'} | ${f.enabled ? r.skip : `disabled upstream (${f.cases.length})`} |`,
  )
  for (const s of r.skips) skips.push(`| ${s.title} | ${s.reason} |`)
  for (const x of r.failures) fails.push(`| ${x.title} | ${x.reason.replace(/\|/g, '\\|')} |`)
}
// Palisade's rule set: its own YAML tests, every one of which must pass.
const palisadeWaf = createWaf(palisadeTestRuleSet(CRS_RULES_DIR, source))
const palisadeFiles = loadRegressionFiles(
  fileURLToPath(new URL('../../src/waf/crs/testdata/palisade', import.meta.url)),
  source,
)
const palisadeOut: Record<string, { pass: number; fail: number; skip: number }> = {}
const palisadeRows: string[] = []
const palisadeTotal = { pass: 0, enabled: 0, fail: 0, skip: 0 }
for (const f of palisadeFiles) {
  const r = runFile(palisadeWaf, f)
  const key = `${f.folder}/${f.name}`
  palisadeOut[key] = { pass: r.pass, fail: r.fail, skip: r.skip }
  palisadeTotal.enabled += f.cases.length
  palisadeTotal.pass += r.pass
  palisadeTotal.fail += r.fail
  palisadeTotal.skip += r.skip
  palisadeRows.push(`| ${key} | ${r.pass} | ${r.fail} | ${r.skip} |`)
  for (const x of r.failures) fails.push(`| ${x.title} | ${x.reason.replace(/\|/g, '\\|')} |`)
}
writeFileSync(
  new URL('./crs-baseline.json', import.meta.url),
  JSON.stringify(
    {
      total: { pass, enabled, fail, skip },
      files: out,
      palisade: { total: palisadeTotal, files: palisadeOut },
    },
    null,
    2,
  ) + '\n',
)
const table = [
  `Total: **${pass} passed**, ${fail} failed, ${skip} skipped of ${enabled} enabled tests (${((100 * pass) / enabled).toFixed(2)}% pass; ${((100 * pass) / (enabled - skip)).toFixed(2)}% of the tests run).`,
  '',
  '| file | pass | fail | skip |',
  '| --- | ---: | ---: | ---: |',
  ...rows,
  '',
  `Palisade's rule set (\`src/waf/crs/testdata/palisade\`, run after CRS at the same configuration): **${palisadeTotal.pass} passed**, ${palisadeTotal.fail} failed, ${palisadeTotal.skip} skipped of ${palisadeTotal.enabled}.`,
  '',
  '| file | pass | fail | skip |',
  '| --- | ---: | ---: | ---: |',
  ...palisadeRows,
  '',
  '### Skipped tests and why',
  '',
  '| test | reason |',
  '| --- | --- |',
  ...skips,
  '',
  '### Failing tests',
  '',
  ...(fails.length ? ['| test | reason |', '| --- | --- |', ...fails] : ['None.']),
].join('\n')
const wafMd = new URL('../../WAF.md', import.meta.url)
const md = readFileSync(wafMd, 'utf8')
const begin = '<!-- crs-table:begin -->'
const end = '<!-- crs-table:end -->'
const i = md.indexOf(begin)
const j = md.indexOf(end)
if (i < 0 || j < 0) throw new Error('WAF.md has no crs-table markers')
writeFileSync(wafMd, md.slice(0, i + begin.length) + '\n' + table + '\n' + md.slice(j))
console.log(
  `pass ${pass} fail ${fail} skip ${skip} of ${enabled}; Palisade rule set: pass ${palisadeTotal.pass} of ${palisadeTotal.enabled}`,
)
