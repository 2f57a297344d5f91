import type { Kysely } from 'kysely'

/**
 * Runtime pinning and automatic runtime updates: the exact runtime version of every release and
 * deployment, each environment's update state (postponement, the update in progress, back-off after a
 * failure) and the notifications already sent (so none is sent twice).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // One column per statement: SQLite's ALTER TABLE adds one column at a time.
  await db.schema.alterTable('releases').addColumn('runtime_version', 'text').execute()
  await db.schema.alterTable('deployments').addColumn('runtime_version', 'text').execute()
  await db.schema.alterTable('deployments').addColumn('source_release', 'integer').execute()

  await db.schema
    .createTable('runtime_update_states')
    .addColumn('environment_id', 'text', (c) =>
      c.primaryKey().references('environments.id').onDelete('cascade'),
    )
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('postponed_until', 'text')
    .addColumn('postponed_at', 'text')
    .addColumn('postponed_by', 'text')
    .addColumn('attempt_deployment_id', 'text')
    .addColumn('attempt_version', 'text')
    .addColumn('attempt_from', 'text')
    .addColumn('attempt_kind', 'text')
    .addColumn('retry_after', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute()

  await db.schema
    .createTable('runtime_notifications')
    .addColumn('environment_id', 'text', (c) => c.notNull().references('environments.id').onDelete('cascade'))
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('recipients', 'integer', (c) => c.notNull())
    .addColumn('sent_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('runtime_notifications_pk', ['environment_id', 'key'])
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('runtime_notifications').execute()
  await db.schema.dropTable('runtime_update_states').execute()
  await db.schema.alterTable('deployments').dropColumn('source_release').execute()
  await db.schema.alterTable('deployments').dropColumn('runtime_version').execute()
  await db.schema.alterTable('releases').dropColumn('runtime_version').execute()
}
