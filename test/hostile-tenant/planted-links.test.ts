/**
 * Property: whatever link or swap a tenant plants in the directories it owns, the platform's root
 * operations on them (making, packing as for a backup, unpacking as for a restore, removing, freezing a
 * build into a release, checking a release's digest) neither read nor change anything outside the
 * environment. A canary tree of the platform's and another tenant's release stand outside; hundreds of
 * random placements per run.
 */
import assert from 'node:assert/strict'
import { randomInt } from 'node:crypto'
import {
  chmodSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { createLocalDriver, removeSandbox, sandboxName } from '../../src/deploy/index.js'
import { packRootTree } from '../../src/shared/tenant-files.js'
import { ROOT_ONLY, snapshotTree } from './support.js'

const LEAVES = ['home', 'shared/uploads', 'shared/var/cache', 'builds/7'] as const
const OPS = ['makeDir', 'pack', 'unpack', 'remove', 'freeze', 'digest'] as const

test(
  'links and swaps planted in tenant directories never make a root operation reach outside',
  { skip: ROOT_ONLY, timeout: 600_000 },
  async (t) => {
    const base = mkdtempSync(path.join(tmpdir(), 'pal-plant-'))
    chmodSync(base, 0o711)
    const dataDir = path.join(base, 'data')
    const canary = path.join(base, 'canary')
    mkdirSync(path.join(canary, 'sub'), { recursive: true })
    writeFileSync(path.join(canary, 'master.key'), 'CANARY-SECRET-0123456789')
    writeFileSync(path.join(canary, 'sub', 'db'), 'CANARY-DB-ROWS')
    mkdirSync(dataDir, { mode: 0o700 })
    const driver = createLocalDriver({ dataDir, isolate: true })
    const env = `env_plant${randomInt(1e9)}`
    const other = `env_other${randomInt(1e9)}`
    const envDir = path.join(dataDir, 'envs', env)
    t.after(async () => {
      await driver.close(1_000)
      await removeSandbox(sandboxName(env))
      await removeSandbox(sandboxName(other))
      rmSync(base, { recursive: true, force: true })
    })
    await driver.prepareEnvironment(env, envDir)
    await driver.prepareEnvironment(other, path.join(dataDir, 'envs', other))
    // Another tenant's frozen release, as a second thing that must stay untouched.
    const otherRelease = path.join(dataDir, 'envs', other, 'releases', '1')
    mkdirSync(otherRelease, { recursive: true })
    writeFileSync(path.join(otherRelease, 'server.js'), 'OTHER-TENANT-CODE')
    const targets = [
      canary,
      path.join(canary, 'master.key'),
      path.join(canary, 'sub'),
      otherRelease,
      '/etc',
      dataDir,
    ]
    const before = [snapshotTree(canary), snapshotTree(otherRelease)]
    const source = mkdtempSync(path.join(base, 'src-'))
    writeFileSync(path.join(source, 'restored.txt'), 'restored')

    const id = driver.identityOf(env)
    assert.ok(id && id.uid > 0)
    const asTenant = (p: string): void => lchownSync(p, id.uid, id.gid)

    let placements = 0
    let ops = 0
    for (let round = 0; round < 250; round++) {
      const leaf = LEAVES[randomInt(LEAVES.length)] as string
      await driver.files.makeDir(env, leaf)
      const leafDir = path.join(envDir, leaf)
      // Two placements per round: a link at a random depth, or a subdirectory swapped for a link.
      for (let k = 0; k < 2; k++) {
        const depth = randomInt(3)
        let dir = leafDir
        for (let i = 0; i < depth; i++) {
          // (The test plants as root: it must not walk through its own earlier links either.)
          const next = path.join(dir, `d${randomInt(3)}`)
          try {
            const st = lstatSync(next)
            if (!st.isDirectory() || st.isSymbolicLink()) break
          } catch {
            mkdirSync(next)
            asTenant(next)
          }
          dir = next
        }
        const target = targets[randomInt(targets.length)] as string
        const name = path.join(dir, randomInt(2) === 0 ? `link${randomInt(5)}` : 'd0')
        try {
          rmSync(name, { recursive: true, force: true })
          symlinkSync(target, name)
          asTenant(name)
          placements++
        } catch {
          // the parent was itself a link planted before: that placement stands as it is
        }
      }
      const op = OPS[randomInt(OPS.length)] as (typeof OPS)[number]
      ops++
      try {
        switch (op) {
          case 'makeDir':
            await driver.files.makeDir(env, leaf)
            break
          case 'pack': {
            const packed = driver.files.pack(env, leaf)
            const chunks: Buffer[] = []
            for await (const c of packed.stream) chunks.push(c as Buffer)
            await packed.done
            const tarText = Buffer.concat(chunks).toString('latin1')
            assert.doesNotMatch(
              tarText,
              /CANARY-|OTHER-TENANT/,
              'a packed tenant directory holds no file from outside',
            )
            break
          }
          case 'unpack':
            await driver.files.unpack(env, leaf, packRootTree(source))
            break
          case 'remove':
            await driver.files.remove(env, leaf)
            break
          case 'freeze': {
            if (!leaf.startsWith('builds/')) break
            const release = path.join(envDir, 'releases', String(round))
            await driver.freezeRelease(env, leaf, release)
            // Links are kept as links (the app sees them inside its sandbox only); nothing outside was copied in.
            assert.doesNotMatch(snapshotText(release), /CANARY-|OTHER-TENANT/)
            await driver.digestRelease(release)
            break
          }
          case 'digest':
            await driver.digestRelease(otherRelease)
            break
        }
      } catch (err) {
        // An operation may refuse (a planted link where a directory must be); it must never reach outside.
        assert.ok(err instanceof Error)
      }
      assert.deepEqual(
        [snapshotTree(canary), snapshotTree(otherRelease)],
        before,
        `after ${op} on ${leaf} (round ${round})`,
      )
    }
    assert.ok(placements >= 400, `${placements} placements`)
    assert.equal(ops, 250)
  },
)

/** The contents of every regular file under `root` (links not followed). */
function snapshotText(root: string): string {
  let out = ''
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = path.join(dir, name)
      const st = lstatSync(p)
      if (st.isDirectory()) walk(p)
      else if (st.isFile()) out += readFileSync(p, 'latin1')
    }
  }
  walk(root)
  return out
}
