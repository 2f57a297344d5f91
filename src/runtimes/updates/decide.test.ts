import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { MaintenanceWindow } from '../../tenancy/index.js'
import { planRuntimeUpdates, type RuntimePlan } from '../planner.js'
import type { RuntimeCatalog } from '../catalog/types.js'
import { parseRuntimeSetting } from '../setting.js'
import { decideRuntimeUpdate, postponeLimit, retryAfterFailure, type DecisionInput } from './decide.js'

// Sunday 02:00–04:00 UTC. 2024-03-03 is a Sunday.
const WINDOW: MaintenanceWindow = { day: 'sun', start: '02:00', durationMinutes: 120, timezone: 'UTC' }
const DAY = 86_400_000

const catalog: RuntimeCatalog = {
  generatedAt: '2024-03-01T00:00:00.000Z',
  sources: ['test'],
  runtimes: {
    node: {
      name: 'node',
      majors: [{ major: 20, releasedAt: '2023-04-18', ltsFrom: '2023-10-24', eolAt: '2026-04-30' }],
      versions: [
        { version: '20.11.0', releasedAt: '2024-01-09T00:00:00.000Z', security: false, advisories: [] },
        { version: '20.11.1', releasedAt: '2024-02-14T00:00:00.000Z', security: true, advisories: ['CVE-1'] },
        { version: '20.11.2', releasedAt: '2024-02-28T00:00:00.000Z', security: false, advisories: [] },
      ],
    },
  },
}

function plan(
  current: string,
  now: string,
  window: MaintenanceWindow | null = WINDOW,
  postponedUntil?: string,
): RuntimePlan {
  return planRuntimeUpdates({
    catalog,
    setting: parseRuntimeSetting('node@20.11'),
    current,
    window,
    now: new Date(now),
    ...(postponedUntil ? { postponedUntil: new Date(postponedUntil) } : {}),
  })
}

function decide(p: RuntimePlan, now: string, extra: Partial<DecisionInput> = {}) {
  return decideRuntimeUpdate({
    plan: p,
    window: WINDOW,
    now: new Date(now),
    retryAfter: null,
    inProgress: false,
    notified: new Set(),
    ...extra,
  })
}

test('a patch planned for the next window is announced, not applied', () => {
  const now = '2024-03-01T12:00:00.000Z' // Friday; next window Sunday 2024-03-03 02:00
  const d = decide(plan('20.11.1', now), now)
  assert.equal(d.apply, null)
  assert.match(d.waiting ?? '', /patch update to 20\.11\.2 is due 2024-03-03T02:00/)
  assert.deepEqual(
    d.notices.map((n) => n.key),
    ['planned:20.11.2:2024-03-03T02:00:00.000Z'],
  )
})

test('an announcement already sent is not sent again; one further than the notice period is not sent yet', () => {
  const now = '2024-03-01T12:00:00.000Z'
  const d = decide(plan('20.11.1', now), now, {
    notified: new Set(['planned:20.11.2:2024-03-03T02:00:00.000Z']),
  })
  assert.deepEqual(d.notices, [])
  const early = decide(plan('20.11.1', now), now, { policy: { noticeAheadDays: 1 } })
  assert.deepEqual(early.notices, [])
})

test('inside the window a due patch is applied', () => {
  const now = '2024-03-03T02:30:00.000Z'
  const d = decide(plan('20.11.1', now), now)
  assert.equal(d.apply?.version, '20.11.2')
  assert.equal(d.apply?.kind, 'patch')
  assert.equal(d.apply?.from, '20.11.1')
  assert.equal(d.apply?.outsideWindow, false)
  assert.deepEqual(d.notices, [])
})

test('a security deadline forces the update outside the window', () => {
  // 20.11.1 (security) was published 2024-02-14; 30 days later is 2024-03-15 (a Friday).
  const now = '2024-03-15T10:00:00.000Z'
  const d = decide(plan('20.11.0', now, WINDOW, '2024-03-30T00:00:00.000Z'), now)
  assert.equal(d.apply?.kind, 'security')
  assert.equal(d.apply?.outsideWindow, true)
})

test('nothing is applied while an update runs, or before the back-off after a failure ends', () => {
  const now = '2024-03-03T02:30:00.000Z'
  const p = plan('20.11.1', now)
  assert.equal(decide(p, now, { inProgress: true }).apply, null)
  assert.match(decide(p, now, { inProgress: true }).waiting ?? '', /in progress/)
  const backoff = decide(p, now, { retryAfter: new Date('2024-03-03T04:00:00.000Z') })
  assert.equal(backoff.apply, null)
  assert.match(backoff.waiting ?? '', /not before 2024-03-03T04:00/)
  assert.equal(decide(p, now, { retryAfter: new Date('2024-03-03T02:00:00.000Z') }).apply?.version, '20.11.2')
})

test('a postponed patch is not applied in this window', () => {
  const now = '2024-03-03T02:30:00.000Z'
  const d = decide(plan('20.11.1', now, WINDOW, '2024-03-12T00:00:00.000Z'), now)
  assert.equal(d.apply, null)
  assert.match(d.waiting ?? '', /due 2024-03-17T02:00/)
})

test('without a window a due update is applied at once and counts as outside a window', () => {
  const now = '2024-03-01T12:00:00.000Z'
  const d = decide(plan('20.11.1', now, null), now, { window: null })
  assert.equal(d.apply?.version, '20.11.2')
  assert.equal(d.apply?.outsideWindow, true)
})

test('end of life is announced once, 30 days ahead, and not when the deprecated channel was chosen', () => {
  const eolPlan = (now: string, channel: 'stable' | 'deprecated' = 'stable') =>
    planRuntimeUpdates({
      catalog,
      setting: parseRuntimeSetting('node@20.11', channel),
      current: '20.11.2',
      window: WINDOW,
      now: new Date(now),
    })
  assert.deepEqual(decide(eolPlan('2026-03-01T00:00:00.000Z'), '2026-03-01T00:00:00.000Z').notices, [])
  const due = decide(eolPlan('2026-04-10T00:00:00.000Z'), '2026-04-10T00:00:00.000Z').notices
  assert.deepEqual(
    due.map((n) => n.key),
    ['eol:20'],
  )
  assert.equal(due[0]?.kind === 'eol' && due[0].status, 'upcoming')
  assert.deepEqual(
    decide(eolPlan('2026-05-10T00:00:00.000Z'), '2026-05-10T00:00:00.000Z', { notified: new Set(['eol:20']) })
      .notices,
    [],
  )
  assert.deepEqual(
    decide(eolPlan('2026-05-10T00:00:00.000Z', 'deprecated'), '2026-05-10T00:00:00.000Z').notices,
    [],
  )
})

test('after a failure inside a window the next attempt waits for the next window; outside one, a day', () => {
  assert.equal(
    retryAfterFailure(WINDOW, new Date('2024-03-03T02:40:00.000Z')).toISOString(),
    '2024-03-03T04:00:00.000Z',
  )
  assert.equal(
    retryAfterFailure(WINDOW, new Date('2024-03-05T10:00:00.000Z')).getTime(),
    Date.parse('2024-03-05T10:00:00.000Z') + DAY,
  )
  assert.equal(
    retryAfterFailure(null, new Date('2024-03-05T10:00:00.000Z')).getTime(),
    Date.parse('2024-03-06T10:00:00.000Z'),
  )
})

test('the postponement limit is the security deadline, or 4 windows for a patch, and none without updates', () => {
  const now = '2024-03-01T12:00:00.000Z'
  const far = '2034-01-01T00:00:00.000Z'
  assert.equal(postponeLimit(plan('20.11.0', now, WINDOW, far))?.toISOString(), '2024-03-15T00:00:00.000Z')
  // Patch normally due 2024-03-03 02:00; four windows later is 2024-03-31 02:00.
  assert.equal(postponeLimit(plan('20.11.1', now, WINDOW, far))?.toISOString(), '2024-03-31T02:00:00.000Z')
  assert.equal(postponeLimit(plan('20.11.2', now, WINDOW, far)), null)
})
