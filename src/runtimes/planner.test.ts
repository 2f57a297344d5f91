import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import type { MaintenanceWindow } from '../tenancy/index.js'
import { validateCatalog } from './catalog/validate-catalog.js'
import { planRuntimeUpdates, type RuntimePolicy, type StepKind } from './planner.js'
import { parseRuntimeSetting, type Channel } from './setting.js'

interface ExpectedStep {
  readonly kind: StepKind
  readonly version: string | null
  readonly due: string
  readonly reason?: string
  readonly postponed?: boolean
}
interface Case {
  readonly name: string
  readonly setting: string
  readonly channel?: Channel
  readonly current: string | null
  readonly window: string | MaintenanceWindow | null
  readonly now: string
  readonly postponedUntil?: string
  readonly policy?: Partial<RuntimePolicy>
  readonly target?: string
  readonly steps: readonly ExpectedStep[]
  readonly eol?: unknown
  readonly notices: readonly string[]
}

const read = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`./testdata/${name}`, import.meta.url), 'utf8'))
const catalog = validateCatalog(read('catalog.json'))
const corpus = read('plans.json') as { windows: Record<string, MaintenanceWindow>; cases: Case[] }

test('the planner corpus loaded', () => {
  assert.ok(corpus.cases.length >= 40, `only ${corpus.cases.length} cases`)
  assert.equal(new Set(corpus.cases.map((c) => c.name)).size, corpus.cases.length, 'case names are unique')
})

for (const c of corpus.cases) {
  test(c.name, () => {
    const window = typeof c.window === 'string' ? corpus.windows[c.window] : c.window
    assert.notEqual(window, undefined, `unknown window ${JSON.stringify(c.window)}`)
    const plan = planRuntimeUpdates({
      catalog,
      setting: parseRuntimeSetting(c.setting, c.channel),
      current: c.current,
      window: window ?? null,
      now: new Date(c.now),
      ...(c.postponedUntil ? { postponedUntil: new Date(c.postponedUntil) } : {}),
      ...(c.policy ? { policy: c.policy } : {}),
    })
    assert.equal(plan.current, c.current)
    assert.equal(plan.target, c.target, 'target')
    assert.deepEqual(
      plan.steps.map((s) => ({
        kind: s.kind,
        version: s.version,
        due: s.due,
        postponed: s.postponed ?? false,
      })),
      c.steps.map((s) => ({
        kind: s.kind,
        version: s.version,
        due: new Date(s.due).toISOString(),
        postponed: s.postponed ?? false,
      })),
    )
    c.steps.forEach((s, i) => {
      const reason = plan.steps[i]?.reason ?? ''
      assert.ok(reason.length > 0, `step ${i} states its rule`)
      if (s.reason)
        assert.ok(
          reason.includes(s.reason),
          `step ${i} reason ${JSON.stringify(reason)} lacks ${JSON.stringify(s.reason)}`,
        )
    })
    assert.deepEqual(plan.eol, c.eol, 'eol')
    assert.equal(plan.notices.length, c.notices.length, `notices: ${JSON.stringify(plan.notices)}`)
    c.notices.forEach((n, i) =>
      assert.ok(
        plan.notices[i]?.includes(n),
        `notice ${i} ${JSON.stringify(plan.notices[i])} lacks ${JSON.stringify(n)}`,
      ),
    )
  })
}

test('the plan does not depend on anything but its input', () => {
  const input = {
    catalog,
    setting: parseRuntimeSetting('node@20'),
    current: '20.11.0',
    window: corpus.windows['sunUtc'] ?? null,
    now: new Date('2024-04-04T12:00:00Z'),
  }
  assert.deepEqual(planRuntimeUpdates(input), planRuntimeUpdates(input))
})

test('an unparsable current version is refused', () => {
  assert.throws(
    () =>
      planRuntimeUpdates({
        catalog,
        setting: parseRuntimeSetting('node@20'),
        current: 'v20',
        window: null,
        now: new Date(),
      }),
    { code: 'PAL_RUNTIME_VERSION_INVALID' },
  )
})
