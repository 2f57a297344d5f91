import type { Kysely } from 'kysely'

/**
 * Backups learn where they came from (`manual`, `scheduled`, `import`) and, for imports, the environment
 * the archive was made in; environments get a backup schedule with retention.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // One column per statement: SQLite's ALTER TABLE adds a single column at a time.
  await db.schema
    .alterTable('backups')
    .addColumn('origin', 'text', (c) => c.notNull().defaultTo('manual'))
    .execute()
  await db.schema.alterTable('backups').addColumn('source_environment_id', 'text').execute()
  await db.schema
    .createIndex('backups_env_origin')
    .on('backups')
    .columns(['environment_id', 'origin', 'status'])
    .execute()

  await db.schema
    .createTable('backup_schedules')
    .addColumn('environment_id', 'text', (c) =>
      c.primaryKey().references('environments.id').onDelete('cascade'),
    )
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('every_hours', 'integer', (c) => c.notNull())
    .addColumn('keep', 'integer', (c) => c.notNull())
    .addColumn('files', 'integer', (c) => c.notNull())
    .addColumn('next_run_at', 'text')
    .addColumn('last_run_at', 'text')
    .addColumn('last_backup_id', 'text')
    .addColumn('last_error', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema
    .createIndex('backup_schedules_due')
    .on('backup_schedules')
    .columns(['enabled', 'next_run_at'])
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('backup_schedules').execute()
  await db.schema.dropIndex('backups_env_origin').execute()
  await db.schema.alterTable('backups').dropColumn('source_environment_id').execute()
  await db.schema.alterTable('backups').dropColumn('origin').execute()
}
