import type { Kysely } from 'kysely'

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('deployments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('environment_id', 'text', (c) => c.notNull().references('environments.id').onDelete('cascade'))
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('number', 'integer', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('ref', 'text')
    .addColumn('commit', 'text')
    .addColumn('release', 'integer')
    .addColumn('reason', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text')
    .addColumn('finished_at', 'text')
    .addUniqueConstraint('deployments_env_number', ['environment_id', 'number'])
    .execute()
  await db.schema.createIndex('deployments_status').on('deployments').column('status').execute()

  await db.schema
    .createTable('releases')
    .addColumn('environment_id', 'text', (c) => c.notNull().references('environments.id').onDelete('cascade'))
    .addColumn('number', 'integer', (c) => c.notNull())
    .addColumn('deployment_id', 'text', (c) => c.notNull())
    .addColumn('commit', 'text')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('command', 'text')
    .addColumn('static_root', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('removed', 'integer', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('releases_pk', ['environment_id', 'number'])
    .execute()

  await db.schema
    .createTable('deploy_states')
    .addColumn('environment_id', 'text', (c) =>
      c.primaryKey().references('environments.id').onDelete('cascade'),
    )
    .addColumn('current_release', 'integer')
    .addColumn('current_deployment_id', 'text')
    .addColumn('maintenance', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute()

  await db.schema
    .createTable('jobs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('environment_id', 'text', (c) => c.notNull().references('environments.id').onDelete('cascade'))
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('command', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('exit_code', 'integer')
    .addColumn('reason', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('finished_at', 'text')
    .execute()
  await db.schema.createIndex('jobs_env').on('jobs').columns(['environment_id', 'created_at']).execute()

  await db.schema
    .createTable('environment_access')
    .addColumn('environment_id', 'text', (c) =>
      c.primaryKey().references('environments.id').onDelete('cascade'),
    )
    .addColumn('ip_allow', 'text', (c) => c.notNull())
    .addColumn('ip_groups', 'text', (c) => c.notNull())
    .addColumn('basic_username', 'text')
    .addColumn('basic_password_hash', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute()

  await db.schema
    .createTable('environment_domains')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('environment_id', 'text', (c) => c.notNull().references('environments.id').onDelete('cascade'))
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema
    .createIndex('environment_domains_env')
    .on('environment_domains')
    .column('environment_id')
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of [
    'environment_domains',
    'environment_access',
    'jobs',
    'deploy_states',
    'releases',
    'deployments',
  ]) {
    await db.schema.dropTable(t).execute()
  }
}
