import { randomBytes } from 'node:crypto'
import type { Kysely } from 'kysely'

/**
 * Custom domains are claimed per environment (`domain_claims`, any number of claims per name, one token each)
 * and routed only once proven (`environment_domains`, unique per name). Domains added before proof was
 * required stay routed, marked verified by migration, and must pass the periodic re-check like any other:
 * without the TXT record or HTTP token they are dropped after the re-check's grace.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('domain_claims')
    .addColumn('environment_id', 'text', (c) => c.notNull().references('environments.id').onDelete('cascade'))
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('token', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('verified_at', 'text')
    .addColumn('method', 'text')
    .addColumn('checked_at', 'text')
    .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('domain_claims_pk', ['environment_id', 'name'])
    .execute()
  await db.schema.createIndex('domain_claims_name').on('domain_claims').column('name').execute()
  const typed = db as Kysely<{
    environment_domains: { name: string; environment_id: string; workspace_id: string; created_at: string }
    domain_claims: {
      environment_id: string
      workspace_id: string
      name: string
      token: string
      created_at: string
      verified_at: string | null
      method: string | null
      checked_at: string | null
      failures: number
    }
  }>
  const existing = await typed.selectFrom('environment_domains').selectAll().execute()
  for (const d of existing) {
    await typed
      .insertInto('domain_claims')
      .values({
        environment_id: d.environment_id,
        workspace_id: d.workspace_id,
        name: d.name,
        token: randomBytes(24).toString('base64url'),
        created_at: d.created_at,
        verified_at: d.created_at,
        method: 'legacy',
        checked_at: null,
        failures: 0,
      })
      .execute()
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('domain_claims').execute()
}
