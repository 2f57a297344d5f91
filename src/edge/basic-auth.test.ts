import assert from 'node:assert/strict'
import { test } from 'node:test'
import argon2 from 'argon2'
import { BasicAuthVerifier, parseBasicAuth } from './basic-auth.js'

/** Cheap argon2id parameters: the tests check the flow, not the cost. */
const LIGHT = { type: argon2.argon2id, memoryCost: 4096, timeCost: 2 } as const

test('Basic credentials are parsed, passwords may hold colons, junk is null', () => {
  const header = `Basic ${Buffer.from('team:a:b').toString('base64')}`
  assert.deepEqual(parseBasicAuth(header), { username: 'team', password: 'a:b' })
  assert.equal(parseBasicAuth('Bearer x'), null)
  assert.equal(parseBasicAuth(`Basic ${Buffer.from('nocolon').toString('base64')}`), null)
  assert.equal(parseBasicAuth(undefined), null)
})

test('a correct password is verified once by argon2 and then served from the cache until it expires', async () => {
  let now = 0
  const verifier = new BasicAuthVerifier({ ttlMs: 1_000, now: () => now })
  const expected = { username: 'team', passwordHash: await argon2.hash('pw-1', LIGHT) }
  let slowRuns = 0
  const count = (): boolean => {
    slowRuns++
    return true
  }
  assert.equal(await verifier.verify(expected, { username: 'team', password: 'pw-1' }, count), true)
  assert.equal(await verifier.verify(expected, { username: 'team', password: 'pw-1' }, count), true)
  assert.equal(slowRuns, 1)
  now += 1_001
  assert.equal(await verifier.verify(expected, { username: 'team', password: 'pw-1' }, count), true)
  assert.equal(slowRuns, 2)
})

test('wrong passwords are never cached and a changed hash invalidates the cache', async () => {
  const verifier = new BasicAuthVerifier({ now: () => 0 })
  const first = { username: 'team', passwordHash: await argon2.hash('pw-1', LIGHT) }
  assert.equal(await verifier.verify(first, { username: 'team', password: 'pw-1' }), true)
  const rotated = { username: 'team', passwordHash: await argon2.hash('pw-2', LIGHT) }
  assert.equal(await verifier.verify(rotated, { username: 'team', password: 'pw-1' }), false)
  assert.equal(await verifier.verify(rotated, { username: 'team', password: 'pw-1' }), false)
  assert.equal(await verifier.verify(rotated, { username: 'intruder', password: 'pw-2' }), false)
})

test('a refused slow check yields null and a malformed stored hash denies without throwing', async () => {
  const verifier = new BasicAuthVerifier({ now: () => 0 })
  const expected = { username: 'team', passwordHash: await argon2.hash('pw-1', LIGHT) }
  assert.equal(await verifier.verify(expected, { username: 'team', password: 'x' }, () => false), null)
  assert.equal(
    await verifier.verify(
      { username: 'team', passwordHash: 'plain' },
      { username: 'team', password: 'plain' },
    ),
    false,
  )
})
