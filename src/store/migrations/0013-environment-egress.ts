import type { Kysely } from 'kysely'

/**
 * An environment's egress setting (JSON: `{"app": …, "build": …}`); null is the default (apps: the public
 * internet, builds: the package registries). See docs/isolation.md, "Egress".
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('environments').addColumn('egress', 'text').execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('environments').dropColumn('egress').execute()
}
