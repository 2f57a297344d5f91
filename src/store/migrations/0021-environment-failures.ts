import type { Kysely } from 'kysely'

/**
 * Environments the monitor marked `failed` (their app crash-loops): one row while the mark lasts, removed when
 * a deployment of the environment succeeds. Owned by src/monitor.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('environment_failures')
    .addColumn('environment_id', 'text', (c) =>
      c.primaryKey().references('environments.id').onDelete('cascade'),
    )
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('summary', 'text', (c) => c.notNull())
    .addColumn('deployment_id', 'text')
    .addColumn('since', 'text', (c) => c.notNull())
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('environment_failures').execute()
}
