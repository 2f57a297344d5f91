import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { randomToken } from '../../src/shared/ids.js'

/** PostgreSQL server used by the suite; `.ci/run` makes sure one is running. */
export const PG_ADMIN_URL = process.env['PALISADE_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test'

export interface TestStore {
  readonly name: 'sqlite' | 'postgres'
  readonly databaseUrl: string
  readonly dataDir: string
  drop(): Promise<void>
}

/** A fresh, empty store of each dialect: SQLite in a temp dir, PostgreSQL as a new database. */
export const STORE_KINDS = ['sqlite', 'postgres'] as const

export async function createTestStore(kind: (typeof STORE_KINDS)[number]): Promise<TestStore> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'palisade-test-'))
  if (kind === 'sqlite') {
    return {
      name: 'sqlite',
      databaseUrl: `sqlite:${path.join(dataDir, 'palisade.db')}`,
      dataDir,
      drop: async () => rmSync(dataDir, { recursive: true, force: true }),
    }
  }
  const dbName = `palisade_t_${randomToken(12)}`
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${dbName}`)
  await admin.end()
  const url = new URL(PG_ADMIN_URL)
  url.pathname = `/${dbName}`
  return {
    name: 'postgres',
    databaseUrl: url.toString(),
    dataDir,
    async drop() {
      rmSync(dataDir, { recursive: true, force: true })
      const c = new pg.Client({ connectionString: PG_ADMIN_URL })
      await c.connect()
      await c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)
      await c.end()
    },
  }
}
