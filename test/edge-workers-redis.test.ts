import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { Redis } from 'ioredis'
import { eventually } from '../src/deploy/testing.js'
import type { EdgeWorkersStatus } from '../src/edge/index.js'
import { httpGet } from './deploy-helpers.js'
import { commitVersion, createCrashRig } from './crash/harness.js'

/**
 * Issue #23, item 4: with Redis configured, the edge throttle's buckets live in Redis, so a limit of L per client
 * holds across the edge workers of this host and every other host sharing the Redis server.
 */

const REDIS_URL = process.env['PALISADE_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379'

test('with PALISADE_REDIS_URL two edge workers share one bucket per client, kept in Redis', async (t) => {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, connectTimeout: 5_000 })
  t.after(() => redis.disconnect())
  const rig = await createCrashRig(t, { edgeWorkers: 2, env: { PALISADE_REDIS_URL: REDIS_URL } })
  await rig.start()
  const { envId, host } = await rig.bootstrap()
  commitVersion(rig, 'c1')
  assert.equal((await rig.waitDeployment((await rig.deploy(envId))['id'] as string))['status'], 'succeeded')
  const status = (): EdgeWorkersStatus =>
    JSON.parse(readFileSync(path.join(rig.dataDir, 'edge-workers.json'), 'utf8')) as EdgeWorkersStatus
  await eventually(
    () => (status().workers.filter((w) => w.ready).length === 2 ? true : undefined),
    60_000,
    'workers',
  )

  const burst = 8
  const v = status().version
  const tight = await rig.api('PATCH', `/v1/environments/${envId}`, {
    throttle: { requestsPerSecond: 1, burst },
  })
  assert.equal(tight.status, 200)
  await eventually(
    () => {
      const s = status()
      return s.version > v && s.workers.every((w) => w.version === s.version) ? true : undefined
    },
    20_000,
    'workers programmed',
  )
  const before = new Map(status().workers.map((w) => [w.pid, w.requests]))
  const started = Date.now()
  const answers: { status: number }[] = []
  // Waves of new connections: the kernel hands each to whichever worker accepts first.
  for (let wave = 0; wave < 3; wave++)
    answers.push(
      ...(await Promise.all(
        Array.from({ length: 16 }, () => httpGet(rig.edgePort, host, '/', { accept: 'text/plain' })),
      )),
    )
  const seconds = (Date.now() - started) / 1000
  const passed = answers.filter((a) => a.status === 200).length
  assert.equal(passed + answers.filter((a) => a.status === 429).length, 48)
  assert.ok(passed >= burst && passed <= burst + Math.ceil(seconds), `${passed} passed in ${seconds} s`)

  // The bucket is in Redis (a key for this environment), not in the supervisor's memory.
  const keys = await redis.keys(`palisade:throttle:edge:*${envId}*`)
  assert.ok(keys.length >= 1, 'a bucket in Redis')
  const served = await eventually(
    () => {
      const now = status().workers.map((w) => w.requests - (before.get(w.pid) ?? 0))
      return now.reduce((a, b) => a + b, 0) >= 48 ? now : undefined
    },
    15_000,
    'every request counted',
  )
  t.diagnostic(`requests per worker: ${served.join(' ')}`)
  if (keys.length > 0) await redis.del(...keys)
})
