import assert from 'node:assert/strict'
import { test } from 'node:test'
import { RUNTIME_ERRORS } from './errors.js'

test('runtime error codes are unique and follow PAL_RUNTIME_<WHAT>', () => {
  const codes = Object.values(RUNTIME_ERRORS)
  assert.equal(new Set(codes).size, codes.length)
  for (const c of codes) assert.match(c, /^PAL_RUNTIME_[A-Z_]+$/)
})
