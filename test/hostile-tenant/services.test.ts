/**
 * A hostile tenant that got code running in its own database server (an exploit, or a feature left on)
 * tries to use the server's place on the host: its view of the file system, and the links it can plant in
 * its own service directory for the platform's root to follow during backups and restores (issue #16).
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { sandboxName } from '../../src/deploy/index.js'
import { eventually } from '../../src/deploy/testing.js'
import { startDeployPlatform, type DeployFixture, type DeployPlatform } from '../deploy-helpers.js'
import { environmentUser, inSandbox } from '../services-helpers.js'
import { ROOT_ONLY } from './support.js'

interface ServiceView {
  id: string
  status: string
  reason: string | null
  process: { pid: number | null } | null
}

describe("a tenant's database server is as contained as its app", { skip: ROOT_ONLY }, () => {
  let p: DeployPlatform
  let f: DeployFixture
  let dataDir: string
  let service: ServiceView
  let serviceDir: string
  const canary = mkdtempSync(path.join(os.tmpdir(), 'palisade-canary-'))
  const cleanups: Array<() => Promise<void>> = []
  after(async () => {
    for (const fn of cleanups.reverse()) await fn()
    rmSync(canary, { recursive: true, force: true })
  })

  const serviceState = async (): Promise<ServiceView> =>
    (await f.call('GET', `/v1/services/${service.id}`)).json() as ServiceView

  /** Runs a shell command as the tenant's server would: its sandbox, its services directory writable. */
  const asServer = (command: string): void => {
    const user = environmentUser(dataDir, f.envId)
    const argv = inSandbox(user, ['/bin/sh', '-c', command], { writable: true, cwd: serviceDir })
    const r = spawnSync(argv[0] as string, argv.slice(1), { encoding: 'utf8' })
    assert.equal(r.status, 0, `${command}: ${r.stderr}`)
  }

  const backup = async (): Promise<{ id: string; status: string }> => {
    const res = await f.call('POST', `/v1/environments/${f.envId}/backups`, {})
    assert.equal(res.statusCode, 201, res.body)
    const id = (res.json() as { id: string }).id
    return eventually(
      async () => {
        const b = (await f.call('GET', `/v1/backups/${id}`)).json() as { id: string; status: string }
        return b.status === 'running' ? undefined : b
      },
      240_000,
      `backup ${id}`,
    )
  }

  before(async () => {
    p = await startDeployPlatform({ after: (fn) => void cleanups.push(fn) }, { isolate: true })
    dataDir = p.platform.config.dataDir
    f = await p.addApp()
    const res = await f.call('POST', `/v1/environments/${f.envId}/services`, { type: 'redis', name: 'cache' })
    assert.equal(res.statusCode, 201, res.body)
    const id = (res.json() as { id: string }).id
    service = await eventually(
      async () => {
        const s = (await f.call('GET', `/v1/services/${id}`)).json() as ServiceView
        if (s.status === 'failed') throw new Error(`redis failed: ${s.reason}`)
        return s.status === 'running' ? s : undefined
      },
      240_000,
      'redis running',
    )
    serviceDir = path.join(dataDir, 'envs', f.envId, 'services', id)
    // A root-only directory of the host holding what a planted link would aim at.
    mkdirSync(path.join(canary, 'appendonly'))
    writeFileSync(path.join(canary, 'dump.rdb'), 'HOST SECRET do not copy\n', { mode: 0o600 })
    writeFileSync(path.join(canary, 'appendonly', 'keep'), 'keep\n')
  })

  test('the server runs as the environment user in its own mount and network namespaces, without the platform files', async () => {
    const pid = (await serviceState()).process?.pid
    assert.ok(pid, 'the service reports its server pid')
    const uid = environmentUser(dataDir, f.envId).uid
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    assert.match(status, new RegExp(`^Uid:\\s+${uid}\\s+${uid}\\s+${uid}\\s+${uid}$`, 'm'))
    assert.match(status, /^CapEff:\s+0+$/m)
    assert.match(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), /^redis-server/)
    assert.notEqual(readlinkSync(`/proc/${pid}/ns/mnt`), readlinkSync('/proc/self/ns/mnt'))
    assert.equal(statSync(`/proc/${pid}/ns/net`).ino, statSync(`/run/netns/${sandboxName(f.envId)}`).ino)
    // Its root is the sandbox: the data dir's secrets and other environments are not there.
    const root = `/proc/${pid}/root`
    for (const name of ['master.key', 'palisade.db', 'audit-signing.pem'])
      assert.equal(existsSync(path.join(root, dataDir, name)), false, name)
    assert.deepEqual(readdirSync(path.join(root, dataDir, 'envs')), [f.envId])
    assert.equal(existsSync(path.join(root, canary)), false)
  })

  test('links planted in the service directory steer neither a backup nor a restore', async () => {
    const good = await backup()
    assert.equal(good.status, 'succeeded')
    asServer(`mv data data.real && ln -s ${canary} data`)
    // Backup: the platform must not read the host file the link names into the tenant's archive.
    const planted = await backup()
    if (planted.status === 'succeeded') {
      const archive = (await f.call('GET', `/v1/backups/${planted.id}/download`)).rawPayload
      assert.equal(archive.includes(Buffer.from('HOST SECRET')), false)
    }
    // Restore: nothing the link names may be removed or overwritten.
    // It answers when it is over, restored or refused; either way the host is untouched.
    await f.call('POST', `/v1/backups/${good.id}/restore`, {})
    assert.equal(readFileSync(path.join(canary, 'dump.rdb'), 'utf8'), 'HOST SECRET do not copy\n')
    assert.equal(readFileSync(path.join(canary, 'appendonly', 'keep'), 'utf8'), 'keep\n')
    assert.deepEqual(readdirSync(canary).sort(), ['appendonly', 'dump.rdb'])
  })
})
