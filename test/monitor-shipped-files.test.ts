import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { parse } from 'yaml'
import { createMonitor } from '../src/monitor/index.js'
import { migrateToLatest, openStore } from '../src/store/index.js'
import { createAuditLog, createCheckpointSigner, generateSigningKeyPem } from '../src/audit/index.js'
import { LogStore } from '../src/deploy/index.js'
import { createSecretBox } from '../src/shared/secret-box.js'
import { REPO } from './support/processes.js'

const PROMTOOL = '/usr/bin/promtool'
const hasPromtool = spawnSync(PROMTOOL, ['--version']).status === 0
const RULES = path.join(REPO, 'deploy/prometheus/alerts.yml')
const DASHBOARD = path.join(REPO, 'deploy/grafana/palisade-dashboard.json')

/** Metric names that Palisade exposes (read from a real exposition), with the histogram/counter suffixes. */
async function exposedNames(t: import('node:test').TestContext): Promise<Set<string>> {
  const dir = mkdtempSync(path.join(tmpdir(), 'palisade-shipped-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const store = openStore(`sqlite:${path.join(dir, 'p.db')}`)
  t.after(() => store.close())
  await migrateToLatest(store.db)
  const monitor = createMonitor({
    db: store.db,
    audit: createAuditLog({
      db: store.db,
      dialect: store.dialect,
      clock: { now: () => new Date() },
      signer: createCheckpointSigner(generateSigningKeyPem()),
    }),
    dataDir: dir,
    processes: () => [],
    servingLogKey: () => null,
    logs: () => new LogStore(path.join(dir, 'logs'), { capBytes: 1024 }),
    mailer: { send: () => Promise.resolve() },
    secrets: createSecretBox(Buffer.alloc(32, 1)),
    publicUrl: 'http://127.0.0.1',
  })
  const text = await monitor.metrics.render()
  const names = new Set<string>()
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [name, type] = [m[1]!, m[2]!]
    names.add(name)
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s)
  }
  return names
}

function metricNamesIn(expr: string): string[] {
  return [...expr.matchAll(/\b(palisade_[a-z0-9_]+)/g)].map((m) => m[1]!)
}

test(
  'deploy/prometheus/alerts.yml passes promtool check rules',
  { skip: !hasPromtool && 'Debian package prometheus is not installed' },
  () => {
    const r = spawnSync(PROMTOOL, ['check', 'rules', RULES], { encoding: 'utf8' })
    assert.equal(r.status, 0, r.stdout + r.stderr)
    assert.match(r.stdout, /SUCCESS: \d+ rules found/)
  },
)

test(
  'every PromQL expression of the Grafana dashboard is valid (promtool) and names metrics Palisade exposes',
  { skip: !hasPromtool && 'Debian package prometheus is not installed' },
  async (t) => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
      uid: string
      panels: Array<{ title: string; targets: Array<{ expr: string }> }>
    }
    assert.equal(dashboard.uid, 'palisade-overview')
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((x) => ({ title: p.title, expr: x.expr })))
    assert.ok(exprs.length >= 15, 'the dashboard has its panels')
    const names = await exposedNames(t)
    for (const { title, expr } of exprs)
      for (const name of metricNamesIn(expr)) assert.ok(names.has(name), `${title}: ${name} is not exposed`)
    // promtool knows no Grafana variables: they are replaced by values of the same kind.
    const dir = mkdtempSync(path.join(tmpdir(), 'palisade-dash-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    const file = path.join(dir, 'dashboard-rules.yml')
    const rules = exprs.map(({ expr }, i) => ({
      record: `palisade_dashboard:panel_${i}`,
      expr: expr.replaceAll('$__rate_interval', '5m').replaceAll('$environment', '.*'),
    }))
    writeFileSync(file, JSON.stringify({ groups: [{ name: 'dashboard', rules }] }))
    const r = spawnSync(PROMTOOL, ['check', 'rules', file], { encoding: 'utf8' })
    assert.equal(r.status, 0, r.stdout + r.stderr)
  },
)

test('every alert rule of alerts.yml names metrics Palisade exposes', async (t) => {
  const doc = parse(readFileSync(RULES, 'utf8')) as {
    groups: Array<{ rules: Array<{ alert: string; expr: string }> }>
  }
  const rules = doc.groups.flatMap((g) => g.rules)
  assert.ok(rules.length >= 12)
  const names = await exposedNames(t)
  for (const r of rules)
    for (const name of metricNamesIn(r.expr)) assert.ok(names.has(name), `${r.alert}: ${name} is not exposed`)
})
