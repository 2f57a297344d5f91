import type { Kysely } from 'kysely'

/**
 * An environment's runtime channel: `stable` (updates by the SemVer policy; end of life announced) or
 * `deprecated` (the customer chose to keep a major past its end of life, knowingly).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('environments')
    .addColumn('runtime_channel', 'text', (c) => c.notNull().defaultTo('stable'))
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('environments').dropColumn('runtime_channel').execute()
}
