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

test('secret names are matched by rule: array, nested and dotted forms, word parts, case-insensitively', () => {
  const cases = [
    'password[]',
    'user[password]',
    'user.password',
    'user%5Bpassword%5D',
    'USER[PASSWORD]',
    'newPassword',
    'password_confirmation',
    'x-api-token',
    'sessionid',
    'SESSIONID',
    'session_id',
    'jwt',
    'otp',
    'auth',
    'pass',
    'PHPSESSID',
    'refresh_token',
    'apiKey',
  ]
  for (const name of cases)
    assert.equal(maskUrl(`/a?${name}=s3cr3tvalue&page=2`), `/a?${name}=***&page=2`, name)
  for (const name of ['page', 'author', 'passenger', 'bypass', 'monkey', 'user[name]', 'sort'])
    assert.equal(maskUrl(`/a?${name}=v`), `/a?${name}=v`, name)
})

test('path parameters like ;jsessionid= are masked', () => {
  assert.equal(maskUrl('/shop;jsessionid=0A1B2C3D4E?x=1'), '/shop;jsessionid=***?x=1')
  assert.equal(maskUrl('/a;JSESSIONID=abc;lang=en/b'), '/a;JSESSIONID=***;lang=en/b')
})

test('path segments that look like tokens are masked, ordinary names and slugs are kept', () => {
  assert.equal(maskUrl('/reset/Xk9vQ2mT7pL4rZ8wB1nC5dF3'), '/reset/***')
  assert.equal(maskUrl('/verify/5f4dcc3b5aa765d61d8327deb882cf99/done'), '/verify/***/done')
  assert.equal(maskUrl('/i/0c8a3d9e-2f4b-4c1a-9e7d-6b5a4c3d2e1f'), '/i/***')
  assert.equal(maskUrl('/t/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl'), '/t/***')
  assert.equal(maskUrl('/blog/how-to-configure-nginx-in-2024'), '/blog/how-to-configure-nginx-in-2024')
  assert.equal(maskUrl('/products/12345/reviews'), '/products/12345/reviews')
  assert.equal(maskUrl('/static/app.bundle.min.js'), '/static/app.bundle.min.js')
  assert.equal(maskUrl('/assets/main.3f2a9c1b4d5e6f70.js'), '/assets/main.3f2a9c1b4d5e6f70.js')
})

test('values equal to a secret variable are masked wherever they appear, plain or percent-encoded', () => {
  const secrets = ['hunter2-db-password', 'short']
  assert.equal(maskUrl('/x?q=hunter2-db-password&y=2', secrets), '/x?q=***&y=2')
  assert.equal(maskUrl('/echo/hunter2-db-password', secrets), '/echo/***')
  assert.equal(maskUrl('/x?q=a%20b%2Fc', ['a b/c-secret', 'a b/c']), '/x?q=a%20b%2Fc')
  assert.equal(maskUrl('/x?q=a%20b%2Fc-secret', ['a b/c-secret']), '/x?q=***')
  // too short to search for without hiding the whole log
  assert.equal(maskUrl('/short', secrets), '/short')
})

test('a Referer keeps its origin and loses its fragment', () => {
  assert.equal(
    maskUrl('https://shop.example.com/cb?code=abc#access_token=xyz'),
    'https://shop.example.com/cb?code=***',
  )
})
