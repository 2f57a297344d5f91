import assert from 'node:assert/strict'
import { test } from 'node:test'
import { EDGE_ERROR_CODES, EdgeConfigError } from './errors.js'
import { PAGES, WAF_BLOCK_PAGE, NOT_DEPLOYED_PAGE, WAF_UNAVAILABLE_PAGE } from './pages.js'

test('edge error codes and page codes are unique and well formed', () => {
  const codes = [
    ...EDGE_ERROR_CODES,
    ...Object.values(PAGES).map((p) => p.code),
    WAF_BLOCK_PAGE.code,
    NOT_DEPLOYED_PAGE.code,
    WAF_UNAVAILABLE_PAGE.code,
  ]
  assert.equal(new Set(codes).size, codes.length)
  for (const code of codes) assert.match(code, /^PAL_EDGE_[A-Z_]+$/)
  assert.equal(new EdgeConfigError('PAL_EDGE_CIDR_INVALID', 'x').kind, 'invalid')
})
