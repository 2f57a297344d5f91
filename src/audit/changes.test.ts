import assert from 'node:assert/strict'
import { test } from 'node:test'
import { diffChanges } from './changes.js'
import { MASK } from './audit-event.js'

test('diff records only changed fields with before and after', () => {
  assert.deepEqual(diffChanges({ a: 1, b: 'x' }, { a: 2, b: 'x' }), { a: { before: 1, after: 2 } })
})

test('diff masks secret fields but still shows that they changed (secret disclosure)', () => {
  const changes = diffChanges({ value: 'old-secret' }, { value: 'new-secret' }, ['value'])
  assert.deepEqual(changes, { value: { before: MASK, after: MASK } })
  assert.ok(!JSON.stringify(changes).includes('secret'))
})

test('diff of a creation has only after values', () => {
  assert.deepEqual(diffChanges(null, { name: 'web' }), { name: { after: 'web' } })
})
