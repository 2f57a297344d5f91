import assert from 'node:assert/strict'
import { test } from 'node:test'
import { shippedCatalog } from '../runtimes/index.js'
import { endOfLife } from './runtime-eol.js'

test('endOfLife reads the major of every standard setting from the catalog, none for custom or static', () => {
  const c = shippedCatalog()
  const eol18 = c.runtimes['node']?.majors.find((m) => m.major === 18)?.eolAt
  assert.ok(eol18, 'the shipped catalog knows node 18')
  for (const setting of ['node@18', 'node@18.20', 'node@18.20.4'])
    assert.deepEqual(endOfLife(c, setting, 'stable'), { name: 'node', major: 18, date: eol18 }, setting)
  assert.deepEqual(endOfLife(c, 'node@18', 'deprecated'), { name: 'node', major: 18, date: eol18 })
  for (const setting of ['static', 'custom:registry.example/app:1', 'node@999', 'ruby@3', 'not a runtime'])
    assert.equal(endOfLife(c, setting, 'stable'), null, setting)
})
