import assert from 'node:assert/strict'
import { test } from 'node:test'
import { findMajor, findRuntime, refreshCatalog, releasedBy, shippedCatalog } from './catalog.js'
import { validateCatalog } from './validate-catalog.js'

test('the shipped snapshot is dated, valid and lists Node majors with end-of-life dates', () => {
  const catalog = shippedCatalog()
  assert.ok(!Number.isNaN(Date.parse(catalog.generatedAt)))
  const node = findRuntime(catalog, 'node')
  assert.ok(node && node.versions.length > 100)
  assert.equal(findMajor(node, 20)?.eolAt, '2026-04-30')
  assert.equal(findMajor(node, 22)?.ltsFrom, '2024-10-29')
  assert.ok(node.versions.some((v) => v.security))
  assert.ok(
    node.versions.every((v) => v.integrity?.startsWith('sha512-')),
    'every version has its tarball integrity',
  )
})

test('the shipped snapshot is frozen', () => {
  assert.throws(() => {
    ;(shippedCatalog().runtimes as Record<string, unknown>)['node'] = undefined
  }, TypeError)
})

test('findRuntime ignores inherited keys', () => {
  assert.equal(findRuntime(shippedCatalog(), 'constructor'), undefined)
  assert.equal(findRuntime(shippedCatalog(), '__proto__'), undefined)
})

test('releasedBy leaves out versions published after now', () => {
  const node = findRuntime(shippedCatalog(), 'node')
  assert.ok(node)
  const before = releasedBy(node, new Date('2024-03-01T00:00:00Z'))
  assert.ok(before.length > 0)
  assert.ok(before.every((r) => r.releasedAt <= '2024-03-01T00:00:00.000Z'))
  assert.ok(!before.some((r) => r.version === '22.0.0'))
})

test('refreshCatalog replaces the Node entry and dates the catalog', async () => {
  const base = shippedCatalog()
  const doc = { versions: { '22.99.0': { dist: {} } }, time: { '22.99.0': '2026-11-01T00:00:00.000Z' } }
  const next = await refreshCatalog(base, async () => doc, new Date('2026-11-02T00:00:00Z'))
  assert.equal(next.generatedAt, '2026-11-02T00:00:00.000Z')
  assert.deepEqual(
    findRuntime(next, 'node')?.versions.map((v) => v.version),
    ['22.99.0'],
  )
})

test('validateCatalog refuses malformed catalogs with PAL_RUNTIME_CATALOG_INVALID', () => {
  const good = {
    generatedAt: '2026-01-01T00:00:00Z',
    sources: [],
    runtimes: { node: { majors: [], versions: [] } },
  }
  assert.ok(validateCatalog(good))
  const bad: unknown[] = [
    null,
    { ...good, generatedAt: 'yesterday' },
    { ...good, runtimes: { 'No de': { majors: [], versions: [] } } },
    {
      ...good,
      runtimes: {
        node: {
          majors: [{ major: 20, releasedAt: '2023-04-18', ltsFrom: null, eolAt: 'soon' }],
          versions: [],
        },
      },
    },
    {
      ...good,
      runtimes: {
        node: {
          majors: [],
          versions: [
            { version: '20.1', releasedAt: '2024-01-01T00:00:00Z', security: false, advisories: [] },
          ],
        },
      },
    },
    {
      ...good,
      runtimes: {
        node: {
          majors: [],
          versions: [
            { version: '20.1.0', releasedAt: '2024-01-01T00:00:00Z', security: 'yes', advisories: [] },
          ],
        },
      },
    },
    {
      ...good,
      runtimes: {
        node: {
          majors: [],
          versions: [
            {
              version: '20.1.0',
              releasedAt: '2024-01-01T00:00:00Z',
              security: false,
              advisories: [],
              integrity: 'md5-x',
            },
          ],
        },
      },
    },
  ]
  for (const b of bad) assert.throws(() => validateCatalog(b), { code: 'PAL_RUNTIME_CATALOG_INVALID' })
})
