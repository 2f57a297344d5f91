import assert from 'node:assert/strict'
import { test } from 'node:test'
import { canonicalJson } from './canonical-json.js'

test('canonical JSON sorts keys at every depth and drops undefined members', () => {
  assert.equal(
    canonicalJson({ b: 1, a: { d: [2, { z: 1, y: null }], c: undefined } }),
    '{"a":{"d":[2,{"y":null,"z":1}]},"b":1}',
  )
})

test('canonical JSON gives the same text for objects built in different orders', () => {
  assert.equal(canonicalJson({ x: 'é', y: true }), canonicalJson({ y: true, x: 'é' }))
})
