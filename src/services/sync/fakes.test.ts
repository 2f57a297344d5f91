import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { test } from 'node:test'
import {
  FAKE_EMAIL_LENGTH,
  FAKE_NAME_MAX_LENGTH,
  FIRST_NAMES,
  HASH_LENGTH,
  LAST_NAMES,
  fakeEmail,
  fakeHash,
  fakeName,
  hmacPads,
  isFakeEmail,
  quoteLiteral,
  sqlExpression,
  updateStatements,
} from './fakes.js'

const key = Buffer.alloc(32, 7)
const other = Buffer.alloc(32, 8)

test('fake e-mails are deterministic per input, distinct between inputs and on the reserved .invalid domain', () => {
  const a = fakeEmail(key, 'alice@example.com')
  assert.equal(a, fakeEmail(key, 'alice@example.com'))
  assert.notEqual(a, fakeEmail(key, 'bob@example.com'))
  assert.ok(isFakeEmail(a), a)
  assert.ok(a.endsWith('@example.invalid'))
  assert.equal(a.length, FAKE_EMAIL_LENGTH)
  assert.ok(!a.includes('alice'))
  const many = new Set(Array.from({ length: 5000 }, (_, i) => fakeEmail(key, `user${i}@shop.test`)))
  assert.equal(many.size, 5000, 'no collisions over 5000 addresses')
})

test('outputs depend on the project key: another project cannot match or reverse them', () => {
  assert.notEqual(fakeEmail(key, 'alice@example.com'), fakeEmail(other, 'alice@example.com'))
  assert.notEqual(fakeHash(key, 'alice@example.com'), fakeHash(other, 'alice@example.com'))
  // Not a plain, unkeyed hash (which a dictionary of addresses would reverse).
  const plain = createHmac('sha256', Buffer.alloc(0)).update('alice@example.com').digest('hex')
  assert.notEqual(fakeHash(key, 'alice@example.com'), plain.slice(0, HASH_LENGTH))
})

test('hash is the first 128 bits of HMAC-SHA256 in hex, so joins on hashed columns still match', () => {
  const h = fakeHash(key, 'customer-42')
  assert.equal(h, createHmac('sha256', key).update('customer-42').digest('hex').slice(0, HASH_LENGTH))
  assert.match(h, /^[0-9a-f]{32}$/)
  assert.equal(fakeHash(key, 'customer-42'), h)
})

test('fake names come from the built-in lists, deterministically, within the announced length', () => {
  const n = fakeName(key, 'Alice Liddell')
  assert.equal(n, fakeName(key, 'Alice Liddell'))
  const [first, last] = n.split(' ')
  assert.ok((FIRST_NAMES as readonly string[]).includes(first ?? ''))
  assert.ok((LAST_NAMES as readonly string[]).includes(last ?? ''))
  const names = Array.from({ length: 500 }, (_, i) => fakeName(key, `person ${i}`))
  assert.ok(names.every((x) => x.length <= FAKE_NAME_MAX_LENGTH))
  assert.ok(new Set(names).size > 100, 'names spread over the lists')
})

test('isFakeEmail refuses real-looking addresses', () => {
  for (const v of ['alice@example.com', 'user-123@example.invalid', 'user-0123456789abcdef@example.com', ''])
    assert.equal(isFakeEmail(v), false, v)
})

test('HMAC pads reproduce node:crypto HMAC (the SQL generators are built from them)', async () => {
  const { createHash } = await import('node:crypto')
  const { inner, outer } = hmacPads(key)
  const msg = Buffer.from('zoë@example.com', 'utf8')
  const innerHash = createHash('sha256').update(Buffer.from(inner, 'hex')).update(msg).digest()
  const outerHash = createHash('sha256').update(Buffer.from(outer, 'hex')).update(innerHash).digest('hex')
  assert.equal(outerHash, createHmac('sha256', key).update(msg).digest('hex'))
})

test('constants are quoted for each dialect so that a value cannot end the literal (SQL injection)', () => {
  const evil = "x'); DROP TABLE users; -- \\"
  assert.equal(quoteLiteral('postgresql', evil), "'x''); DROP TABLE users; -- \\'")
  assert.equal(quoteLiteral('mariadb', evil), "'x''); DROP TABLE users; -- \\\\'")
  const sql = sqlExpression('mariadb', key, { column: 'note', method: 'constant', value: evil })
  assert.equal(sql, quoteLiteral('mariadb', evil))
})

test('one UPDATE per table; keep assigns nothing; auto-updating columns are kept as they were', () => {
  const rules = [
    { table: 'users', column: 'email', method: 'fake-email' },
    { table: 'users', column: 'name', method: 'keep' },
    { table: 'users', column: 'phone', method: 'null' },
    { table: 'orders', column: 'email', method: 'hash' },
  ]
  const stmts = updateStatements('mariadb', key, rules, new Map([['users', ['updated_at']]]))
  assert.equal(stmts.length, 2)
  assert.match(stmts[0] ?? '', /^UPDATE `users` SET `email` = CONCAT\('user-', LEFT\(SHA2\(/)
  assert.match(stmts[0] ?? '', /`phone` = NULL, `updated_at` = `updated_at`$/)
  assert.ok(!(stmts[0] ?? '').includes('`name`'))
  assert.match(stmts[1] ?? '', /^UPDATE `orders` SET `email` = LEFT\(SHA2\(/)
  const pg = updateStatements('postgresql', key, rules)
  assert.match(pg[0] ?? '', /^UPDATE "users" SET "email" = 'user-' \|\| left\(encode\(sha256\(/)
  // The key itself never appears: only its pads (and those only in statements sent over the socket).
  assert.ok(!pg.join('\n').includes(key.toString('hex')))
  assert.deepEqual(updateStatements('postgresql', key, [{ table: 't', column: 'c', method: 'keep' }]), [])
})
