import type { Kysely } from 'kysely'

/**
 * Per-workspace credential revocation (incident `revoke-credentials`): a session or API token listed here no
 * longer acts in that workspace, and still does in every other one. An admin of one workspace must not be
 * able to end a member's access to the workspaces they do not administer (cross-tenant denial of service).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('credential_revocations')
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
    /** A session id (`ses_…`) or an API token id (`tok_…`). */
    .addColumn('credential_id', 'text', (c) => c.notNull())
    .addColumn('revoked_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('credential_revocations_pk', ['workspace_id', 'credential_id'])
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('credential_revocations').execute()
}
