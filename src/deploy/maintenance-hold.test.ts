import assert from 'node:assert/strict'
import { test } from 'node:test'
import { sql } from 'kysely'
import { fixedClock } from '../shared/clock.js'
import { migrateToLatest, openStore } from '../store/index.js'
import { createMaintenanceHold } from './maintenance-hold.js'

async function fixture(t: { after(fn: () => Promise<void>): void }) {
  const store = openStore('sqlite::memory:')
  t.after(() => store.close())
  await migrateToLatest(store.db)
  // The flag's table references environments; this unit needs only the flag.
  await sql`PRAGMA foreign_keys = OFF`.execute(store.db)
  const published: Array<{ env: string; maintenance: number }> = []
  const flag = async (env: string): Promise<number | undefined> =>
    (
      await store.db
        .selectFrom('deploy_states')
        .select('maintenance')
        .where('environment_id', '=', env)
        .executeTakeFirst()
    )?.maintenance
  const hold = createMaintenanceHold(
    { db: store.db, clock: fixedClock('2026-01-01T00:00:00Z') },
    async (env) => {
      published.push({ env, maintenance: (await flag(env)) ?? -1 })
    },
  )
  return { store, hold, published, flag }
}

test('a hold turns maintenance on and publishes it, and its release turns it off again', async (t) => {
  const { hold, published, flag } = await fixture(t)
  const release = await hold.holdMaintenance('env_a')
  assert.equal(await flag('env_a'), 1)
  assert.deepEqual(published, [{ env: 'env_a', maintenance: 1 }])
  await release()
  assert.equal(await flag('env_a'), 0)
  assert.deepEqual(published.at(-1), { env: 'env_a', maintenance: 0 })
  await release()
  assert.equal(published.length, 2, 'a second release call changes nothing')
})

test('an environment already in maintenance stays in maintenance after the hold', async (t) => {
  const { store, hold, flag } = await fixture(t)
  await store.db
    .insertInto('deploy_states')
    .values({
      environment_id: 'env_b',
      current_release: 3,
      current_deployment_id: 'dep_x',
      maintenance: 1,
      updated_at: 'x',
    })
    .execute()
  const release = await hold.holdMaintenance('env_b')
  await release()
  assert.equal(await flag('env_b'), 1)
  const row = await store.db
    .selectFrom('deploy_states')
    .selectAll()
    .where('environment_id', '=', 'env_b')
    .executeTakeFirstOrThrow()
  assert.equal(row.current_release, 3, 'the rest of the state is untouched')
})

test('nested holds share one maintenance period; the last release restores the state from before the first', async (t) => {
  const { hold, flag } = await fixture(t)
  const [r1, r2] = await Promise.all([hold.holdMaintenance('env_c'), hold.holdMaintenance('env_c')])
  await r1()
  assert.equal(await flag('env_c'), 1, 'still held by the second')
  await r2()
  assert.equal(await flag('env_c'), 0)
  // A hold that starts right after a release reads the restored flag, not the held one.
  const r3 = await hold.holdMaintenance('env_c')
  await r3()
  assert.equal(await flag('env_c'), 0)
})

test('work that fails inside a hold still ends it when released in finally', async (t) => {
  const { hold, flag } = await fixture(t)
  const work = async (): Promise<void> => {
    const release = await hold.holdMaintenance('env_d')
    try {
      throw new Error('restore failed half-way')
    } finally {
      await release()
    }
  }
  await assert.rejects(work(), /half-way/)
  assert.equal(await flag('env_d'), 0)
})
