import assert from 'node:assert/strict'
import { test } from 'node:test'
import pg from 'pg'
import { sql } from 'kysely'
import { openStore } from '../src/store/index.js'
import { createTestStore, PG_ADMIN_URL } from './support/stores.js'

test('PostgreSQL: an idle connection the server ends does not end the process; the next query reconnects', async (t) => {
  const ts = await createTestStore('postgres')
  const store = openStore(ts.databaseUrl)
  t.after(async () => {
    await store.close()
    await ts.drop()
  })
  const pid = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(store.db)).rows[0]!.pid
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL })
  await admin.connect()
  await admin.query('select pg_terminate_backend($1)', [pid])
  await admin.end()
  await new Promise((resolve) => setTimeout(resolve, 200)) // the idle client learns of it
  const again = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(store.db)).rows[0]!.pid
  assert.notEqual(again, pid, 'a new connection answered')
})
