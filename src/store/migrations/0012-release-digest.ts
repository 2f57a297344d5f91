import type { Kysely } from 'kysely'

/**
 * A release's digest (SHA-256 over its frozen tree: paths, modes, contents, link texts). A rollback
 * starts a release only when the tree on disk still has it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('releases').addColumn('digest', 'text').execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('releases').dropColumn('digest').execute()
}
