import assert from 'node:assert/strict'
import { test } from 'node:test'
import { formatCidr, parseCidr } from './cidr.js'

test('parses ranges and single addresses into canonical text', () => {
  const cases: [string, string][] = [
    ['10.0.0.0/8', '10.0.0.0/8'],
    [' 203.0.113.7 ', '203.0.113.7/32'],
    ['2001:DB8::/32', '2001:db8::/32'],
    ['::1', '::1/128'],
  ]
  for (const [input, canonical] of cases) {
    const parsed = parseCidr(input)
    assert.ok(parsed, input)
    assert.equal(formatCidr(parsed), canonical)
  }
})

test('refuses what is not an address or range', () => {
  for (const bad of [
    '',
    '10.0.0.0/33',
    '::/129',
    '10.0.0.0/8/8',
    'example.com',
    '10.0.0',
    '1.2.3.4/-1',
    '1.2.3.4/ 8x',
  ])
    assert.equal(parseCidr(bad), null, bad)
})
