/**
 * Property: whatever link or swap a compromised database server plants in its own service directory, the
 * platform's operations there (making the directory, writing configuration, copying snapshots in and out,
 * removing files and the directory) neither read nor change anything outside the environment.
 */
import assert from 'node:assert/strict'
import { randomInt } from 'node:crypto'
import {
  lchownSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { createLocalDriver, removeSandbox, sandboxName } from '../../src/deploy/index.js'
import type { Instance } from '../../src/services/engines/engine.js'
import {
  copyIntoInstance,
  copyOutOfInstance,
  freshInstanceDir,
  removeInInstance,
  removeInstanceDir,
  writeInstanceFile,
} from '../../src/services/instance-files.js'
import { ROOT_ONLY, snapshotTree } from './support.js'

const OPS = ['fresh', 'write', 'copyIn', 'copyOut', 'remove', 'removeDir'] as const
const NAMES = ['data', 'tmp', 'files', 'redis.conf', 'init.sql', 'data/dump.rdb', 'data/appendonly'] as const

test(
  'links planted in a service directory never make a platform operation there reach outside',
  { skip: ROOT_ONLY, timeout: 900_000 },
  async (t) => {
    const base = mkdtempSync(path.join(tmpdir(), 'pal-svc-plant-'))
    const dataDir = path.join(base, 'data')
    const canary = path.join(base, 'canary')
    mkdirSync(path.join(canary, 'sub'), { recursive: true })
    writeFileSync(path.join(canary, 'dump.rdb'), 'CANARY-SECRET-0123456789')
    writeFileSync(path.join(canary, 'sub', 'db'), 'CANARY-DB-ROWS')
    mkdirSync(dataDir, { mode: 0o700 })
    const driver = createLocalDriver({ dataDir, isolate: true })
    const env = `env_svcplant${randomInt(1e9)}`
    const envDir = path.join(dataDir, 'envs', env)
    t.after(async () => {
      await driver.close(1_000)
      await removeSandbox(sandboxName(env))
      rmSync(base, { recursive: true, force: true })
    })
    await driver.prepareEnvironment(env, envDir)
    const id = driver.identityOf(env)
    assert.ok(id && id.uid > 0)
    const inst: Instance = {
      id: 'svc_plant',
      dir: path.join(envDir, 'services', 'svc_plant'),
      runAs: { ...id, sandbox: driver.serviceSandbox(env) },
    }
    const targets = [canary, path.join(canary, 'dump.rdb'), path.join(canary, 'sub'), '/etc', dataDir]
    const before = snapshotTree(canary)
    const payload = path.join(base, 'payload.rdb')
    writeFileSync(payload, 'PAYLOAD')
    const out = path.join(base, 'out.rdb')
    await freshInstanceDir(inst)

    let placements = 0
    let refused = 0
    for (let round = 0; round < 80; round++) {
      for (let k = 0; k < 3; k++) {
        const name = path.join(inst.dir, NAMES[randomInt(NAMES.length)] as string)
        // The test plants as root: it must not walk through one of its own earlier links either.
        const parent = lstatSync(path.dirname(name), { throwIfNoEntry: false })
        if (!parent?.isDirectory()) continue
        try {
          rmSync(name, { recursive: true, force: true })
          symlinkSync(targets[randomInt(targets.length)] as string, name)
          lchownSync(name, id.uid, id.gid)
          placements++
        } catch {
          // its parent is a link planted earlier (or the directory is gone): that placement stands
        }
      }
      const op = OPS[randomInt(OPS.length)] as (typeof OPS)[number]
      const file = path.join(inst.dir, NAMES[randomInt(NAMES.length)] as string)
      try {
        switch (op) {
          case 'fresh':
            await freshInstanceDir(inst)
            break
          case 'write':
            await writeInstanceFile(inst, file, 'WRITTEN')
            break
          case 'copyIn':
            await copyIntoInstance(inst, payload, file)
            break
          case 'copyOut':
            rmSync(out, { force: true })
            await copyOutOfInstance(inst, file, out)
            assert.doesNotMatch(readFileSync(out, 'utf8'), /CANARY/)
            break
          case 'remove':
            await removeInInstance(inst, file)
            break
          case 'removeDir':
            await removeInstanceDir(inst)
            await freshInstanceDir(inst)
            break
        }
      } catch (error) {
        if (error instanceof assert.AssertionError) throw error
        // Refusing (a link that leads nowhere in the sandbox) is a fine outcome; reaching out is not.
        refused++
      }
      if (!lstatSync(inst.dir, { throwIfNoEntry: false })) await freshInstanceDir(inst)
    }
    assert.equal(snapshotTree(canary), before, 'the canary tree is unchanged')
    assert.ok(placements >= 150, `placements: ${placements}`)
    t.diagnostic(`${placements} placements, ${refused} operations refused`)
  },
)
