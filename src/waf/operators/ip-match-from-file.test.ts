import assert from 'node:assert/strict'
import { test } from 'node:test'

import { WafConfigError } from '../errors.js'
import { findOperator } from './index.js'
import type { OperatorCompileContext } from './operator.js'

const ctx = (text: string): OperatorCompileContext => ({ baseDir: '/rules', readFile: () => text })

test('reads addresses and networks per line, with comments', () => {
  const op = findOperator('ipMatchFromFile')!(
    'ips.data',
    ctx('# blocked\n192.0.2.0/24\n198.51.100.7, 2001:db8::/32 # inline\n\n'),
  )
  assert.ok(op('192.0.2.200'))
  assert.ok(op('198.51.100.7'))
  assert.ok(op('2001:db8::1'))
  assert.equal(op('198.51.100.8'), null)
})

test('@ipMatchF is the same operator', () => {
  assert.ok(findOperator('ipMatchF')!('ips.data', ctx('10.0.0.1\n'))('10.0.0.1'))
})

test('an invalid entry is a configuration error', () => {
  assert.throws(
    () => findOperator('ipMatchFromFile')!('ips.data', ctx('10.0.0.1\nnot-an-ip\n')),
    WafConfigError,
  )
})
