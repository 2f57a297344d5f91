/**
 * Finding 1 of 2026-12-07 came from a race: under a busy event loop the uid was read from `id -u` before
 * its output arrived and became 0. Twenty environments deployed at once while services are created:
 * every app, job and service process runs with its own environment's non-zero uid and gid (read from /proc).
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { startDeployPlatform, type DeployFixture } from '../deploy-helpers.js'
import { eventually } from '../../src/deploy/testing.js'
import { ROOT_ONLY, tenantJob } from './support.js'

const COUNT = 20

/**
 * Root's own steps before the tenant's code: nsenter, bubblewrap, and the cgroup launcher (a shell that
 * writes its pid into the unit's cgroup and execs nsenter).
 */
function isSandboxWrapper(cmdline: string): boolean {
  const [argv0 = '', arg1 = '', script = ''] = cmdline.split('\0')
  if (['nsenter', 'bwrap'].includes(path.basename(argv0))) return true
  return argv0 === '/bin/sh' && arg1 === '-c' && script.includes('exec "$@"')
}

/** uid and gid (real, effective, saved, fs) of every process whose command line holds `marker`. */
function processesWith(marker: string): Array<{ pid: string; uids: number[]; gids: number[] }> {
  const out: Array<{ pid: string; uids: number[]; gids: number[] }> = []
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      if (!cmd.includes(marker)) continue
      const status = readFileSync(`/proc/${pid}/status`, 'utf8')
      const ids = (key: string): number[] =>
        (new RegExp(`^${key}:\\s+(.*)$`, 'm').exec(status)?.[1] ?? '').split(/\s+/).map(Number)
      out.push({ pid, uids: ids('Uid'), gids: ids('Gid') })
    } catch {
      // the process ended meanwhile
    }
  }
  return out
}

test(
  'twenty environments deployed at once, with services created meanwhile, each run under their own non-zero ids',
  { skip: ROOT_ONLY, timeout: 600_000 },
  async (t) => {
    const p = await startDeployPlatform(t, { isolate: true })
    // Unique to this run: an earlier run's orphans must not be mistaken for these apps.
    const run = Math.random().toString(36).slice(2, 10)
    const apps: DeployFixture[] = []
    for (let i = 0; i < COUNT; i++) {
      const f = await p.addApp()
      // The app is the tenant's own program; its marker names it on the process list.
      f.repo.commit({
        Procfile: `web: exec node server.js palisade-marker-${run}-${i}-x\n`,
        'server.js':
          "require('node:http').createServer((q, r) => r.end(String(process.getuid()))).listen(Number(process.env.PORT), '127.0.0.1')\n",
      })
      apps.push(f)
    }
    // All twenty queued at once; on two loaded cores they may take minutes, so the wait is long.
    const deployments = apps.map(async (f) => {
      const r = await f.call('POST', `/v1/environments/${f.envId}/deployments`, {})
      assert.equal(r.statusCode, 201, r.body)
      const id = (r.json() as { id: string }).id
      return eventually(
        async () => {
          const d = (await f.call('GET', `/v1/deployments/${id}`)).json() as {
            status: string
            reason: string | null
          }
          return d.status === 'succeeded' || d.status === 'failed' ? d : undefined
        },
        400_000,
        `deployment ${id}`,
      )
    })
    const services = apps.slice(0, 3).map(async (f) => {
      const r = await f.call('POST', `/v1/environments/${f.envId}/services`, { type: 'redis', name: 'cache' })
      assert.equal(r.statusCode, 201, r.body)
      return (r.json() as { id: string }).id
    })
    const done = await Promise.all(deployments)
    for (const d of done) assert.equal(d.status, 'succeeded', d.reason ?? '')
    const serviceIds = await Promise.all(services)
    for (const [i, id] of serviceIds.entries()) {
      const f = apps[i] as DeployFixture
      await eventually(
        async () => {
          const s = (await f.call('GET', `/v1/services/${id}`)).json() as {
            status: string
            reason: string | null
          }
          if (s.status === 'failed') throw new Error(`service failed: ${s.reason ?? ''}`)
          return s.status === 'running' ? s : undefined
        },
        120_000,
        `service ${id}`,
      )
    }

    const ids = JSON.parse(
      readFileSync(path.join(p.platform.config.dataDir, 'sandboxes', 'identities.json'), 'utf8'),
    ) as { envs: Record<string, { uid: number }> }
    const seen = new Set<number>()
    for (const [i, f] of apps.entries()) {
      const uid = ids.envs[f.envId]?.uid
      assert.ok(uid !== undefined && uid > 0, `environment ${i} has a stored uid`)
      assert.ok(!seen.has(uid), `uid ${uid} is not shared`)
      seen.add(uid)
      // The app answers with its own uid, and /proc agrees for every process of it.
      assert.equal((await f.get('/')).body, String(uid))
      // The sandbox's own wrappers (nsenter, bubblewrap) are root's and hold the command line too: the app is
      // what runs after them, and none of it may hold uid or gid 0 in any slot.
      const procs = processesWith(`palisade-marker-${run}-${i}-x`)
      const app = procs.filter((x) => x.uids[0] !== 0)
      for (const proc of procs)
        if (proc.uids[0] === 0)
          assert.ok(
            isSandboxWrapper(readFileSync(`/proc/${proc.pid}/cmdline`, 'utf8')),
            `root process ${proc.pid} is a sandbox wrapper`,
          )
      assert.ok(app.length >= 1, `the app of environment ${i} is running`)
      for (const proc of app) {
        assert.deepEqual(proc.uids, [uid, uid, uid, uid])
        assert.deepEqual(proc.gids, [uid, uid, uid, uid])
      }
    }
    // Jobs, too.
    const job = await tenantJob(apps[5] as DeployFixture, 'id -u; id -g')
    const uid5 = ids.envs[(apps[5] as DeployFixture).envId]?.uid
    assert.match(job.output, new RegExp(`^${uid5}$`, 'm'))
    // Services run as their environment's user.
    for (const [i] of serviceIds.entries()) {
      const f = apps[i] as DeployFixture
      const uid = ids.envs[f.envId]?.uid as number
      const redis = processesWith(path.join('envs', f.envId, 'services'))
      assert.ok(redis.length >= 1, `environment ${i}'s redis runs`)
      for (const proc of redis.filter((x) => x.uids[0] !== 0))
        assert.deepEqual(proc.uids, [uid, uid, uid, uid])
      assert.ok(redis.some((x) => x.uids[0] === uid))
    }
  },
)
