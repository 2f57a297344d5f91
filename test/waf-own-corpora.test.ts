/**
 * Palisade's own corpora through `palisade waf eval --summary` at paranoia 1, as a user runs them:
 * test/fixtures/waf/benign-api.jsonl (legitimate web and API traffic: webhooks, GraphQL, Markdown, non-Latin
 * text, uploads, OAuth, SAML, XML ...) is blocked at most 3 % of the time, and
 * test/fixtures/waf/attacks-own.jsonl (15 attack classes, obfuscated) at least 93 %.
 * Both are written by make-*.ts beside them; a change to a rule is measured against both.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'
import { wafEval } from '../src/cli/commands/waf.js'
import { CRS_RULES_DIR, crsAvailable } from './waf/crs-paths.js'

const available = crsAvailable()
const skip = available.ok ? false : available.why
const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/waf/${name}`, import.meta.url))

/** Runs `waf eval --summary` and returns the `(all)` row of `label`: [requests, blocked]. */
async function summary(
  file: string,
  label: string,
): Promise<{ total: number; blocked: number; out: string[] }> {
  const out: string[] = []
  const err: string[] = []
  const code = await wafEval(
    { jsonl: file, crs: CRS_RULES_DIR, paranoia: 1, summary: true },
    { out: (l) => out.push(l), err: (l) => err.push(l) },
  )
  assert.equal(code, 0, `waf eval failed: ${[...err, ...out.filter((l) => l.startsWith('{'))].join('\n')}`)
  const row = out.map((l) => l.split('\t')).find((r) => r[0] === label && r[1] === '(all)')
  assert.ok(row, `no (all) row for ${label}: ${out.join('\n')}`)
  return { total: Number(row[2]), blocked: Number(row[3]), out }
}

function count(file: string, label: string): number {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '' && (JSON.parse(l) as { label: string }).label === label).length
}

test('the benign API/web corpus is blocked at most 3 % of the time at paranoia 1', { skip }, async () => {
  const file = fixture('benign-api.jsonl')
  const n = count(file, 'benign')
  assert.ok(n >= 300, `${n} benign requests`)
  const s = await summary(file, 'benign')
  assert.equal(s.total, n)
  process.stdout.write(
    `# benign-api PL1: FPR ${((100 * s.blocked) / s.total).toFixed(1)}% (${s.blocked}/${s.total})\n`,
  )
  assert.ok(s.blocked / s.total <= 0.03, s.out.filter((l) => !l.endsWith('FPR 0.0%')).join('\n'))
})

test(
  'the own attack corpus is blocked at least 93 % of the time at paranoia 1, in every class',
  { skip },
  async () => {
    const file = fixture('attacks-own.jsonl')
    const n = count(file, 'attack')
    assert.ok(n >= 100, `${n} attacks`)
    const s = await summary(file, 'attack')
    assert.equal(s.total, n)
    process.stdout.write(
      `# attacks-own PL1: TPR ${((100 * s.blocked) / s.total).toFixed(1)}% (${s.blocked}/${s.total})\n`,
    )
    assert.ok(s.blocked / s.total >= 0.93, s.out.join('\n'))
    const classes = s.out.map((l) => l.split('\t')).filter((r) => r[0] === 'attack' && r[1] !== '(all)')
    assert.ok(classes.length >= 15, `${classes.length} classes`)
  },
)
