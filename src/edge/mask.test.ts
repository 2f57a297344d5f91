import assert from 'node:assert/strict'
import { test } from 'node:test'
import { maskAuthorization, maskCookie, maskUrl } from './mask.js'

test('secret query parameters are masked and the others kept', () => {
  assert.equal(
    maskUrl('/cb?user=bob&password=p1&token=t1&client_secret=s1&api_key=k1&page=2'),
    '/cb?user=bob&password=***&token=***&client_secret=***&api_key=***&page=2',
  )
  assert.equal(maskUrl('/a?Access_Token=x&PASSWORD=y'), '/a?Access_Token=***&PASSWORD=***')
  assert.equal(maskUrl('/plain/path'), '/plain/path')
})

test('percent-encoded secret parameter names are masked too', () => {
  assert.equal(maskUrl('/a?pass%77ord=hunter2'), '/a?pass%77ord=***')
  assert.equal(maskUrl('/a?%zz=1&token=t'), '/a?%zz=1&token=***')
})

test('Authorization keeps only its scheme and cookies only their names', () => {
  assert.equal(maskAuthorization('Bearer abc.def'), 'Bearer ***')
  assert.equal(maskAuthorization('opaque'), '***')
  assert.equal(maskAuthorization(undefined), null)
  assert.equal(maskCookie('sid=abc; theme=dark;flag'), 'sid=***; theme=***; flag')
})
