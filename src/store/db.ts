import { mkdirSync } from 'node:fs'
import path from 'node:path'
import SQLite from 'better-sqlite3'
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely'
import { createRequire } from 'node:module'
import type pgModule from 'pg'
import type { Database } from './schema.js'

export type Dialect = 'sqlite' | 'postgres'

export interface Store {
  readonly db: Kysely<Database>
  readonly dialect: Dialect
  close(): Promise<void>
}

/**
 * Opens the store. `sqlite:<path>` uses better-sqlite3 with WAL, foreign keys and a busy timeout;
 * `postgres://…` uses a pg pool.
 */
export function openStore(databaseUrl: string): Store {
  if (databaseUrl.startsWith('sqlite:')) {
    const file = databaseUrl.slice('sqlite:'.length)
    if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true })
    const sqlite = new SQLite(file)
    sqlite.pragma('journal_mode = WAL')
    sqlite.pragma('foreign_keys = ON')
    sqlite.pragma('busy_timeout = 5000')
    sqlite.pragma('synchronous = NORMAL')
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) })
    return { db, dialect: 'sqlite', close: () => db.destroy() }
  }
  // Loaded only for PostgreSQL: SQLite set-ups start without it.
  const pg = createRequire(import.meta.url)('pg') as typeof pgModule
  // int8 (COUNT, bigint) arrives as a string by default; our counts fit in a double.
  pg.types.setTypeParser(20, (v) => Number(v))
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 })
  // An idle connection the server ends (restart, failover, pg_terminate_backend) is reported here; without
  // a listener it would end the process. The pool drops that client and connects anew on the next query.
  pool.on('error', () => undefined)
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
  return { db, dialect: 'postgres', close: () => db.destroy() }
}

/** Distinct SQL texts kept prepared; Palisade's queries are a few hundred shapes. */
const STATEMENT_CACHE_SIZE = 1000

/**
 * better-sqlite3 compiles a statement on every `prepare`, and Kysely prepares once per query: reusing the
 * prepared statement by its SQL text saves that compilation on every call (about an eighth of a simple
 * query's time). Safe because statements run to completion synchronously: Palisade never streams rows,
 * so one statement is never in use twice at once.
 */
function withStatementCache(sqlite: SQLite.Database): {
  prepare(sql: string): SQLite.Statement
  close(): void
} {
  const cache = new Map<string, SQLite.Statement>()
  return {
    prepare(sql) {
      let statement = cache.get(sql)
      if (statement === undefined) {
        statement = sqlite.prepare(sql)
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string)
        cache.set(sql, statement)
      }
      return statement
    },
    close: () => sqlite.close(),
  }
}
