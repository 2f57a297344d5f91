import assert from 'node:assert/strict'
import { test } from 'node:test'
import { compileAllowList } from './ip-allow.js'

test('CIDRs and single addresses match IPv4, IPv6 and IPv4-mapped clients', () => {
  const list = compileAllowList(['10.0.0.0/8', '192.0.2.7', '2001:db8::/32'])
  assert.equal(list.has('10.200.3.4'), true)
  assert.equal(list.has('192.0.2.7'), true)
  assert.equal(list.has('::ffff:10.1.1.1'), true)
  assert.equal(list.has('2001:db8:ffff::1'), true)
  assert.equal(list.has('11.0.0.1'), false)
  assert.equal(list.has('192.0.2.8'), false)
  assert.equal(list.has('2001:db9::1'), false)
  assert.equal(list.has('not-an-ip'), false)
  assert.equal(list.has(''), false)
})

test('a bad entry is refused with its position', () => {
  assert.throws(
    () => compileAllowList(['10.0.0.0/8', '10.0.0.0/33']),
    (error: { code?: string; message?: string }) =>
      error.code === 'PAL_EDGE_CIDR_INVALID' && (error.message ?? '').includes('ipAllow[1]'),
  )
  assert.throws(() => compileAllowList(['example.com']))
})
