import type { Kysely } from 'kysely'

/** Alerts: per-workspace rule tuning, notification channels (webhook secrets sealed), alerts and deliveries. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('alert_settings')
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
    .addColumn('rule', 'text', (c) => c.notNull())
    .addColumn('threshold', 'real')
    .addColumn('muted', 'integer', (c) => c.notNull())
    .addColumn('repeat_minutes', 'integer')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('alert_settings_pk', ['workspace_id', 'rule'])
    .execute()
  await db.schema
    .createTable('alert_channels')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('format', 'text', (c) => c.notNull())
    .addColumn('secret', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('alert_channels_name', ['workspace_id', 'name'])
    .execute()
  await db.schema
    .createTable('alerts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
    .addColumn('rule', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('environment_id', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('summary', 'text', (c) => c.notNull())
    .addColumn('value', 'real')
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('last_notified_at', 'text', (c) => c.notNull())
    .addColumn('resolved_at', 'text')
    .addColumn('notifications', 'integer', (c) => c.notNull())
    .execute()
  await db.schema
    .createIndex('alerts_open')
    .on('alerts')
    .columns(['status', 'workspace_id', 'rule'])
    .execute()
  await db.schema
    .createTable('alert_deliveries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('alert_id', 'text', (c) => c.notNull().references('alerts.id').onDelete('cascade'))
    .addColumn('channel_id', 'text', (c) => c.notNull().references('alert_channels.id').onDelete('cascade'))
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('event', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('next_attempt_at', 'text')
    .addColumn('response_status', 'integer')
    .addColumn('error', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('delivered_at', 'text')
    .execute()
  await db.schema
    .createIndex('alert_deliveries_due')
    .on('alert_deliveries')
    .columns(['status', 'next_attempt_at'])
    .execute()
  // The WAF spike rule counts recent blocks of every environment by time.
  await db.schema.createIndex('waf_events_at').on('waf_events').columns(['at']).execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('waf_events_at').execute()
  await db.schema.dropTable('alert_deliveries').execute()
  await db.schema.dropTable('alerts').execute()
  await db.schema.dropTable('alert_channels').execute()
  await db.schema.dropTable('alert_settings').execute()
}
