import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test, type TestContext } from 'node:test'
import { LogStore } from '../deploy/log-store.js'
import type { AccessLogEntry } from '../edge/index.js'
import { PalisadeError } from '../shared/errors.js'
import { AccessLogFeed, accessLineOf, type AccessLine } from './access-log-feed.js'
import {
  accessLineMatches,
  followEnvLog,
  parseEnvLogFilter,
  readEnvLog,
  type EnvLogSources,
} from './env-logs.js'

const NOW = Date.parse('2026-12-07T10:00:00Z')

test('log filters are parsed and bounded; a status or path filter selects access lines only', () => {
  assert.deepEqual(parseEnvLogFilter({}, NOW), {
    app: true,
    access: true,
    status: null,
    pathPrefix: null,
    since: null,
    lines: 100,
  })
  const f = parseEnvLogFilter({ status: '5xx', pathPrefix: '/api', since: '10m', lines: 5 }, NOW)
  assert.deepEqual(f, {
    app: false,
    access: true,
    status: { cls: 5 },
    pathPrefix: '/api',
    since: NOW - 600_000,
    lines: 5,
  })
  assert.deepEqual(parseEnvLogFilter({ status: '404', source: 'access' }, NOW).status, { exact: 404 })
  assert.equal(parseEnvLogFilter({ since: '2026-12-07T09:00:00Z' }, NOW).since, NOW - 3_600_000)
  const line = {
    at: '2026-12-07T09:55:00.000Z',
    requestId: 'r',
    clientIp: '203.0.113.1',
    method: 'GET',
    host: 'h',
    path: '/api/x',
    status: 502,
    durationMs: 1,
    bytesOut: 1,
    outcome: 'upstream_error',
    userAgent: null,
  }
  assert.ok(accessLineMatches(f, line))
  assert.ok(!accessLineMatches(f, { ...line, status: 404 }))
  assert.ok(!accessLineMatches(f, { ...line, path: '/other' }))
  assert.ok(!accessLineMatches(f, { ...line, at: '2026-12-07T09:40:00.000Z' }))
})

test('bad log filters are refused with the field named', () => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ source: 'db' }, 'source'],
    [{ status: '600' }, 'status'],
    [{ status: '5x' }, 'status'],
    [{ pathPrefix: 'api' }, 'pathPrefix'],
    [{ pathPrefix: '/a b' }, 'pathPrefix'],
    [{ since: 'yesterday' }, 'since'],
    [{ since: '31d' }, 'since'],
    [{ lines: 5001 }, 'lines'],
    [{ lines: -1 }, 'lines'],
  ]
  assert.ok(cases.length > 0)
  for (const [q, field] of cases) {
    assert.throws(
      () => parseEnvLogFilter(q, NOW),
      (e: unknown) => e instanceof PalisadeError && e.kind === 'invalid' && e.details?.[0]?.field === field,
      JSON.stringify(q),
    )
  }
})

function entryOf(envId: string, requestId: string, p: string): AccessLogEntry {
  return {
    requestId,
    environmentId: envId,
    workspaceId: 'ws',
    clientIp: '203.0.113.9',
    method: 'GET',
    host: 'a.localhost',
    path: p,
    protocol: 'http',
    status: 200,
    bytesOut: 10,
    durationMs: 1,
    outcome: null,
    userAgent: 'test',
    referer: null,
    authorization: null,
    cookie: null,
  }
}

function sourcesFor(
  t: TestContext,
  history: () => Promise<AccessLine[]>,
): EnvLogSources & { logs: LogStore } {
  const dir = mkdtempSync(path.join(tmpdir(), 'pal-envlogs-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return {
    logs: new LogStore(dir, { capBytes: 100_000 }),
    access: new AccessLogFeed(),
    accessHistory: history,
    servingLogKey: () => 'dep_abcdefgh12',
    now: () => Date.parse('2026-12-07T10:00:00Z'),
  }
}

test('a follower gets the kept lines, then live ones; a line in both is shown once, none is lost', async (t) => {
  let answer: (lines: AccessLine[]) => void = () => undefined
  const asked = new Promise<AccessLine[]>((resolve) => (answer = resolve))
  const sources = sourcesFor(t, () => asked)
  const followedSets: string[][] = []
  sources.access.onFollowedChange((ids) => followedSets.push([...ids]))
  sources.logs.append('dep_abcdefgh12', 'booted\n')
  const seen: string[] = []
  const f = parseEnvLogFilter({ lines: 10 }, Date.now())
  const following = followEnvLog(sources, 'env_a', f, (l) =>
    seen.push(l.source === 'app' ? `app ${l.text}` : `access ${l.requestId}`),
  )
  // The workers are told before the history is asked for: r2 reaches both (logged in between), r3 only live.
  assert.deepEqual(followedSets, [['env_a']])
  const r1 = accessLineOf(entryOf('env_a', 'r1', '/1'), Date.now())
  const r2 = accessLineOf(entryOf('env_a', 'r2', '/2'), Date.now())
  sources.access.push(entryOf('env_a', 'r2', '/2'), Date.now())
  sources.access.push(entryOf('env_a', 'r3', '/3'), Date.now())
  sources.logs.append('dep_abcdefgh12', 'served /3\n')
  assert.deepEqual(seen, [], 'nothing is written before the history')
  answer([r1, r2])
  const stop = await following
  assert.deepEqual(seen, ['app booted', 'access r1', 'access r2', 'access r3', 'app served /3'])
  // A worker's batch can bring a line after the history that held it: still shown once.
  sources.access.push(entryOf('env_a', 'r1', '/1'), Date.now())
  assert.equal(seen.length, 5)
  sources.access.push(entryOf('env_a', 'r4', '/4'), Date.now())
  sources.access.push(entryOf('env_b', 'x1', '/4'), Date.now())
  assert.equal(seen.at(-1), 'access r4')
  assert.equal(seen.length, 6)
  stop()
  assert.deepEqual(followedSets, [['env_a'], []], 'the workers stop sending when the last follower goes')
  sources.access.push(entryOf('env_a', 'r5', '/5'), Date.now())
  assert.equal(seen.length, 6)
})

test('a follow whose history fails stops following', async (t) => {
  const sources = sourcesFor(t, () => Promise.reject(new Error('gone')))
  const f = parseEnvLogFilter({}, Date.now())
  await assert.rejects(
    followEnvLog(sources, 'env_a', f, () => undefined),
    /gone/,
  )
  assert.equal(sources.access.followers('env_a'), 0)
})

test('reading a log filters the kept access lines and keeps the newest', async (t) => {
  const lines = [1, 2, 3, 4].map((i) => ({
    ...accessLineOf(entryOf('env_a', `r${i}`, i % 2 ? '/odd' : '/even'), Date.now()),
  }))
  const sources = sourcesFor(t, async () => lines)
  const f = parseEnvLogFilter({ source: 'access', pathPrefix: '/odd', lines: 1 }, Date.now())
  const read = await readEnvLog(sources, 'env_a', f)
  assert.deepEqual(
    read.map((l) => (l.source === 'access' ? l.requestId : l.text)),
    ['r3'],
  )
})
