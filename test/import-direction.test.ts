import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { ESLint, Linter } from 'eslint'
import { REPO } from './support/processes.js'

/**
 * Which capability may import which (STYLE.md "Boundaries", DESIGN.md §1): a layered order, so there are no
 * cycles. Tests are left out (a test may wire anything it needs).
 */
const ALLOWED: Record<string, readonly string[]> = {
  shared: [],
  config: ['shared'],
  store: ['shared', 'config'],
  audit: ['shared', 'config', 'store'],
  iam: ['shared', 'config', 'store', 'audit'],
  tenancy: ['shared', 'config', 'store', 'audit', 'iam'],
  deploy: ['shared', 'config', 'store', 'audit', 'iam', 'tenancy'],
  services: ['shared', 'config', 'store', 'audit', 'iam', 'tenancy'],
  runtimes: ['shared', 'config', 'store', 'audit', 'iam', 'tenancy'],
  waf: ['shared'],
  edge: ['shared', 'config', 'waf', 'tenancy'],
  // The monitor reads what the edge, the deployer and the audit log count, and the runtime catalog's end-of-life
  // dates; the API serves it.
  monitor: ['shared', 'config', 'store', 'audit', 'iam', 'tenancy', 'deploy', 'edge', 'runtimes'],
  // The doctor reads the edge workers' status the supervisor writes.
  doctor: ['shared', 'config', 'store', 'services', 'deploy', 'edge'],
  api: [
    'shared',
    'config',
    'store',
    'audit',
    'iam',
    'tenancy',
    'deploy',
    'services',
    'runtimes',
    'waf',
    'edge',
    'monitor',
  ],
  cli: [
    'shared',
    'config',
    'store',
    'audit',
    'iam',
    'tenancy',
    'deploy',
    'runtimes',
    'waf',
    'edge',
    'doctor',
  ],
}
const CAPS = Object.keys(ALLOWED)

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) return e.name === 'testdata' ? [] : sourceFiles(p)
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !/test(ing|-helpers)\.ts$/.test(e.name)
      ? [p]
      : []
  })
}

/** The capability of a file under src/ (undefined for the composition root and other top-level files). */
function capabilityOf(file: string): string | undefined {
  const [first, second] = path.relative(path.join(REPO, 'src'), file).split(path.sep)
  return second === undefined ? undefined : first
}

test('every capability imports only the capabilities below it (no cycles, no upward imports)', () => {
  const src = path.join(REPO, 'src')
  const found = readdirSync(src, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
  assert.deepEqual(
    found.filter((c) => !CAPS.includes(c)),
    [],
    'a new capability folder gets a row in ALLOWED',
  )
  const bad: string[] = []
  let edges = 0
  for (const file of sourceFiles(src)) {
    const from = capabilityOf(file)
    if (!from) continue
    const text = readFileSync(file, 'utf8')
    for (const m of text.matchAll(
      /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)/g,
    )) {
      const spec = m[1] ?? m[2]
      if (!spec) continue
      const to = capabilityOf(path.resolve(path.dirname(file), spec))
      if (!to || to === from) continue
      edges++
      if (!ALLOWED[from]?.includes(to)) bad.push(`${path.relative(REPO, file)} → ${to} (${spec})`)
    }
  }
  assert.ok(edges > 50, `cross-capability imports were found (${edges})`)
  assert.deepEqual(bad, [])
})

test('the import rules of eslint.config.js hold on probes: boundaries, a pure WAF, WAF leaves, doctor', async () => {
  const eslint = new ESLint({ cwd: REPO })
  // The rule as configured for a file (flat config: the last block that sets it wins, so merging matters).
  const probe = async (file: string, code: string): Promise<string[]> => {
    const config = (await eslint.calculateConfigForFile(path.join(REPO, file))) as {
      rules?: Record<string, Linter.RuleEntry>
    }
    const rule = config.rules?.['no-restricted-imports']
    assert.ok(rule, `${file} is under no-restricted-imports`)
    const linter = new Linter({ configType: 'flat' })
    return linter
      .verify(code, [{ files: ['**/*.ts'], rules: { 'no-restricted-imports': rule } }], path.join(REPO, file))
      .map((m) => m.message)
  }
  const ok = "import { x } from '../shared/errors.js'\n"
  assert.deepEqual(await probe('src/waf/engine/probe.ts', ok), [])
  assert.equal(
    (await probe('src/waf/engine/probe.ts', "import fs from 'node:fs'\n")).length,
    1,
    'waf is pure',
  )
  assert.equal(
    (await probe('src/waf/engine/probe.ts', "import { x } from '../../edge/edge.js'\n")).length,
    1,
    'the boundary holds in waf/ too (a later block must not replace it)',
  )
  assert.equal(
    (await probe('src/waf/operators/probe.ts', "import { x } from '../engine/waf.js'\n")).length,
    1,
    'leaves never import the engine',
  )
  assert.equal(
    (await probe('src/waf/transforms/probe.ts', "import { x } from '../seclang/parse.js'\n")).length,
    1,
  )
  assert.equal(
    (await probe('src/doctor/probe.ts', "import { x } from '../services/engines/postgresql-engine.js'\n"))
      .length,
    1,
    'doctor is a capability like the others',
  )
  assert.equal(
    (await probe('src/api/probe.ts', "import { x } from '../doctor/checks.js'\n")).length,
    1,
    'doctor is reached only through its index.ts',
  )
  assert.deepEqual(await probe('src/api/probe.ts', "import { x } from '../deploy/index.js'\n"), [])
})
