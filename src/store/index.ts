/**
 * The store: Kysely over SQLite (embedded default) or PostgreSQL.
 * @example const store = openStore('sqlite:/var/lib/palisade/palisade.db'); await migrateToLatest(store.db)
 */
export { openStore, type Store, type Dialect } from './db.js'
export { isUniqueViolation } from './unique-violation.js'
export { migrateToLatest, type MigrationResult } from './migrate.js'
export type * from './schema.js'
export type { Kysely, Transaction } from 'kysely'
