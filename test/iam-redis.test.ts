import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { createConnection } from 'node:net'
import { test } from 'node:test'
import { systemClock } from '../src/shared/clock.js'
import { createIdentityStores } from '../src/iam/index.js'

/** Redis used by the suite (the Debian redis-server on its default port unless told). */
const REDIS_URL = process.env['PALISADE_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379'

async function reachable(url: string): Promise<boolean> {
  const u = new URL(url)
  return new Promise((resolve) => {
    const s = createConnection({ host: u.hostname, port: Number(u.port || 6379) })
    s.once('connect', () => (s.destroy(), resolve(true)))
    s.once('error', () => resolve(false))
  })
}

test('two API processes sharing Redis share the login limit and the nonce store', async (t) => {
  if (!(await reachable(REDIS_URL))) return t.skip(`no Redis at ${REDIS_URL}`)
  // Two independent store sets stand for two API processes.
  const a = createIdentityStores({ redisUrl: REDIS_URL, clock: systemClock })
  const b = createIdentityStores({ redisUrl: REDIS_URL, clock: systemClock })
  t.after(async () => {
    await a.close()
    await b.close()
  })
  assert.equal(a.kind, 'redis')
  const email = `victim-${randomBytes(6).toString('hex')}@example.com`
  for (let i = 0; i < 10; i++) await (i % 2 === 0 ? a : b).throttle.take(email, null)
  await assert.rejects(a.throttle.take(email, null), { code: 'PAL_IAM_THROTTLED' })
  await assert.rejects(b.throttle.take(email, null), { code: 'PAL_IAM_THROTTLED' })
  await b.throttle.succeeded(email, null)
  await a.throttle.take(email, null)

  const key = `tok_${randomBytes(6).toString('hex')}`
  assert.equal(await a.nonces.claim(key, 'nonce-shared-1', 5), true)
  assert.equal(await b.nonces.claim(key, 'nonce-shared-1', 5), false)
  assert.equal(await b.nonces.claim(key, 'nonce-shared-2', 5), true)
})
