import type { Kysely } from 'kysely'

/**
 * An environment's edge throttle (JSON `{"requestsPerSecond", "burst"}`, or `"off"`); null is the default
 * (100 requests per second per client, burst 200).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('environments').addColumn('throttle', 'text').execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('environments').dropColumn('throttle').execute()
}
