/**
 * Acceptance on the public GoTestWAF corpus (../shared/waf-corpora/gotestwaf.jsonl, when present):
 * Palisade's default set-up at paranoia 1 blocks at least 85% of its attacks and at most 5% of its
 * benign requests. The corpus is a development set: rules describe attack classes, not its strings.
 */
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'
import {
  createWaf,
  crsRuleSet,
  DEFAULT_WAF_SETTINGS,
  evaluateRequest,
  type WafRequest,
} from '../src/waf/index.js'
import { CRS_RULES_DIR } from './waf/crs-paths.js'
import { createFsSource } from './waf/fs-source.js'

const CORPUS = fileURLToPath(new URL('../../shared/waf-corpora/gotestwaf.jsonl', import.meta.url))
const skip = !existsSync(CORPUS)
  ? `corpus not found at ${CORPUS}`
  : !existsSync(`${CRS_RULES_DIR}/rules`)
    ? `CRS rules not found at ${CRS_RULES_DIR}/rules`
    : false

interface Case {
  id: string
  label: 'attack' | 'benign'
  method: string
  uri: string
  headers: Record<string, string>
  body?: string
}

/** UTF-8 text → byte string, as `palisade waf eval` reads the same lines. */
const bytes = (s: string): string => Buffer.from(s, 'utf8').toString('latin1')

function toRequest(c: Case): WafRequest {
  const headers = Object.entries(c.headers).map(([k, v]): [string, string] => [bytes(k), bytes(String(v))])
  const r: WafRequest = {
    method: c.method,
    uri: bytes(c.uri),
    protocol: 'HTTP/1.1',
    headers,
    remoteAddr: '203.0.113.9',
  }
  if (c.body) {
    r.body = new Uint8Array(Buffer.from(c.body, 'utf8'))
    headers.push(['Content-Length', String(r.body.byteLength)])
  }
  return r
}

test('GoTestWAF corpus at paranoia 1: TPR ≥ 85% and FPR ≤ 5%', { skip }, () => {
  const cases = readFileSync(CORPUS, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Case)
  assert.ok(cases.length > 0)
  const waf = createWaf(crsRuleSet(CRS_RULES_DIR, { ...DEFAULT_WAF_SETTINGS, paranoia: 1 }, createFsSource()))
  let tp = 0
  let attacks = 0
  let fp = 0
  let benign = 0
  for (const c of cases) {
    const blocked = evaluateRequest(waf, toRequest(c)).action === 'block'
    if (c.label === 'attack') {
      attacks++
      if (blocked) tp++
    } else {
      benign++
      if (blocked) fp++
    }
  }
  const tpr = tp / attacks
  const fpr = fp / benign
  process.stdout.write(
    `# GoTestWAF PL1: TPR ${(100 * tpr).toFixed(1)}% (${tp}/${attacks}), FPR ${(100 * fpr).toFixed(1)}% (${fp}/${benign})\n`,
  )
  assert.ok(tpr >= 0.85, `TPR ${tpr}`)
  assert.ok(fpr <= 0.05, `FPR ${fpr}`)
})
