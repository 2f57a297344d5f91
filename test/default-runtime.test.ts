import assert from 'node:assert/strict'
import { test } from 'node:test'
import { findMajor, findRuntime, shippedCatalog } from '../src/runtimes/index.js'
import { DEFAULT_RUNTIME } from '../src/tenancy/index.js'
import { setUpOwner, startPlatform } from './support/platform.js'

test('new projects default to the newest Node.js LTS major that the shipped catalog does not call end of life', () => {
  const catalog = shippedCatalog()
  const node = findRuntime(catalog, 'node')
  assert.ok(node)
  const at = catalog.generatedAt.slice(0, 10)
  const m = /^node@(\d+)$/.exec(DEFAULT_RUNTIME)
  assert.ok(m, `${DEFAULT_RUNTIME} tracks a major`)
  const major = findMajor(node, Number(m[1]))
  assert.ok(major, `the catalog knows node ${m[1]}`)
  assert.ok(major.ltsFrom !== null && major.ltsFrom <= at, `node ${major.major} is LTS at ${at}`)
  assert.ok(major.eolAt > at, `node ${major.major} is not past its end of life (${major.eolAt}) at ${at}`)
  const newerLts = node.majors.filter(
    (x) => x.major > major.major && x.ltsFrom !== null && x.ltsFrom <= at && x.eolAt > at,
  )
  assert.deepEqual(
    newerLts.map((x) => x.major),
    [],
    'no newer LTS major',
  )
})

test('a project created without a runtime gets the default, and its environments with it', async (t) => {
  const tp = await startPlatform(t, 'sqlite')
  const { token } = await setUpOwner(tp)
  const p = await tp.call('POST', '/v1/workspaces/acme/projects', { token, body: { name: 'shop' } })
  assert.equal(p.statusCode, 201, p.body)
  assert.equal((p.json() as { defaultRuntime: string }).defaultRuntime, DEFAULT_RUNTIME)
  const e = await tp.call('POST', `/v1/projects/${(p.json() as { id: string }).id}/environments`, {
    token,
    body: { name: 'main' },
  })
  assert.equal((e.json() as { runtime: string }).runtime, DEFAULT_RUNTIME)
})
