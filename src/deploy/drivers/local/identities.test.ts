import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { assertEnvironmentId, createIdentities, IDENTITY_RANGE } from './identities.js'

test('an identity that is not a plain number inside the platform range is refused (never 0)', () => {
  for (const bad of [0, Number(''), NaN, -1, 1000, 65534, IDENTITY_RANGE.last + 1, 1.5, '610001'])
    assert.throws(() => assertEnvironmentId(bad), /refusing identity/)
  assert.equal(assertEnvironmentId(IDENTITY_RANGE.first), IDENTITY_RANGE.first)
})

test(
  'identities are allocated once, stored privately, kept across instances and never handed out twice',
  { skip: process.getuid?.() === 0 ? false : 'needs root (useradd)' },
  async (t) => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'pal-ids-'))
    const ids = createIdentities(dataDir)
    const suffix = Math.random().toString(36).slice(2, 8)
    const names = [`pal-t${suffix}a`, `pal-t${suffix}b`, `pal-t${suffix}c`]
    t.after(async () => {
      for (const env of ['a', 'b', 'c']) await ids.remove(`env_${suffix}${env}`)
      rmSync(dataDir, { recursive: true, force: true })
    })
    // Concurrent first uses (the deployer and services preparing at once) agree.
    const [a1, a2, b] = await Promise.all([
      ids.ensure(`env_${suffix}a`, names[0] as string),
      ids.ensure(`env_${suffix}a`, names[0] as string),
      ids.ensure(`env_${suffix}b`, names[1] as string),
    ])
    assert.deepEqual(a1, a2)
    assert.notEqual(a1.uid, b.uid)
    assert.ok(a1.uid >= IDENTITY_RANGE.first && a1.gid === a1.uid)
    assert.equal(statSync(path.join(dataDir, 'sandboxes', 'identities.json')).mode & 0o077, 0)
    // A new instance (a restart) reads the same numbers.
    assert.deepEqual(await createIdentities(dataDir).ensure(`env_${suffix}a`, names[0] as string), a1)
    // Removed: the numbers are not reused by the next environment.
    await ids.remove(`env_${suffix}b`)
    const c = await ids.ensure(`env_${suffix}c`, names[2] as string)
    assert.ok(c.uid > b.uid, `${c.uid} > ${b.uid}`)
  },
)
