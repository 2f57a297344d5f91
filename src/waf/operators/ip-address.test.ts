import assert from 'node:assert/strict'
import { test } from 'node:test'

import { parseIpv4, parseIpv6 } from './ip-address.js'

const hex = (b: Uint8Array | undefined): string | undefined =>
  b ? Buffer.from(b).toString('hex') : undefined

test('parses dotted quads strictly', () => {
  assert.equal(hex(parseIpv4('192.0.2.1')), 'c0000201')
  for (const bad of ['256.0.0.1', '1.2.3', '01.2.3.4', '1.2.3.4.5', ' 1.2.3.4', '1.2.3.4/8', ''])
    assert.equal(parseIpv4(bad), undefined, bad)
})

test('parses IPv6 with compression and an embedded IPv4 tail', () => {
  assert.equal(hex(parseIpv6('::1')), '00000000000000000000000000000001')
  assert.equal(hex(parseIpv6('2001:db8::')), '20010db8000000000000000000000000')
  assert.equal(hex(parseIpv6('::ffff:192.0.2.1')), '00000000000000000000ffffc0000201')
  assert.equal(hex(parseIpv6('1:2:3:4:5:6:7:8')), '00010002000300040005000600070008')
  for (const bad of [
    '1::2::3',
    '1:2:3:4:5:6:7:8:9',
    '12345::',
    'fe80::1%eth0',
    ':',
    '1:2:3:4:5:6:7',
    '::1.2.3.4:1',
  ])
    assert.equal(parseIpv6(bad), undefined, bad)
})
