import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import type { MaintenanceWindow } from '../tenancy/index.js'
import { isInWindow, nthWindow, windowAt, zonedInstant } from './window.js'

interface Case {
  readonly name: string
  readonly window: MaintenanceWindow
  readonly at: string
  readonly start: string
  readonly end: string
}
const corpus = JSON.parse(readFileSync(new URL('./testdata/windows.json', import.meta.url), 'utf8')) as {
  cases: Case[]
}

test('the window corpus loaded', () => {
  assert.ok(corpus.cases.length >= 20)
  assert.equal(new Set(corpus.cases.map((c) => c.name)).size, corpus.cases.length, 'case names are unique')
})

for (const c of corpus.cases) {
  test(c.name, () => {
    const occ = windowAt(c.window, new Date(c.at))
    assert.deepEqual(
      { start: occ.start.toISOString(), end: occ.end.toISOString() },
      { start: new Date(c.start).toISOString(), end: new Date(c.end).toISOString() },
    )
  })
}

test('nthWindow walks weekly occurrences across a DST change (the repeated 02:00 takes its first instant)', () => {
  const w: MaintenanceWindow = { day: 'sun', start: '02:00', durationMinutes: 60, timezone: 'Europe/Paris' }
  const starts = [0, 1, 2].map((n) => nthWindow(w, new Date('2026-10-17T12:00:00Z'), n).start.toISOString())
  assert.deepEqual(starts, [
    '2026-10-18T00:00:00.000Z',
    '2026-10-25T00:00:00.000Z',
    '2026-11-01T01:00:00.000Z',
  ])
})

test('isInWindow is true inside and false outside', () => {
  const w: MaintenanceWindow = { day: 'mon', start: '03:00', durationMinutes: 60, timezone: 'UTC' }
  assert.equal(isInWindow(w, new Date('2026-11-23T03:59:00Z')), true)
  assert.equal(isInWindow(w, new Date('2026-11-23T04:00:00Z')), false)
})

test('zonedInstant resolves ordinary, gap and overlap wall times', () => {
  assert.equal(zonedInstant(2026, 1, 15, 12, 0, 'Europe/Berlin').toISOString(), '2026-01-15T11:00:00.000Z')
  assert.equal(zonedInstant(2026, 3, 29, 2, 0, 'Europe/Berlin').toISOString(), '2026-03-29T01:00:00.000Z')
  assert.equal(zonedInstant(2026, 10, 25, 2, 0, 'Europe/Berlin').toISOString(), '2026-10-25T00:00:00.000Z')
})
