import assert from 'node:assert/strict'
import { test } from 'node:test'
import { MAX_CIDRS, normaliseCidrs } from './ip-groups.js'

test('CIDRs are normalised: host bits cleared, bare addresses get a full prefix, duplicates dropped', () => {
  assert.deepEqual(
    normaliseCidrs([
      '10.1.2.3/8',
      '192.0.2.7',
      '10.0.0.0/8',
      '2001:db8::1/32',
      '::ffff:192.0.2.0/120',
      ' 198.51.100.0/24 ',
    ]),
    ['10.0.0.0/8', '192.0.2.7/32', '2001:db8::/32', '192.0.2.0/24', '198.51.100.0/24'],
  )
})

test('malformed, legacy-notation and out-of-range CIDRs are refused with the failing index', () => {
  for (const bad of [
    '',
    'banana',
    '10.0.0.0/33',
    '2001:db8::/129',
    '010.1',
    '0x7f.0.0.1',
    '10.0.0.0/8/8',
    '10.0.0.0/-1',
    '1.2.3.4/ 8',
  ]) {
    assert.throws(
      () => normaliseCidrs(['192.0.2.0/24', bad]),
      (e: { code?: string; details?: Array<{ field: string }> }) => {
        assert.equal(e.code, 'PAL_IAM_IP_GROUP_INVALID', bad)
        assert.equal(e.details?.[0]?.field, 'cidrs.1', bad)
        return true
      },
    )
  }
})

test(`more than ${MAX_CIDRS} CIDRs are refused`, () => {
  const many = Array.from({ length: MAX_CIDRS + 1 }, (_, i) => `10.0.${i}.0/24`)
  assert.throws(() => normaliseCidrs(many), { code: 'PAL_IAM_IP_GROUP_INVALID' })
  assert.equal(normaliseCidrs(many.slice(0, MAX_CIDRS)).length, MAX_CIDRS)
})
