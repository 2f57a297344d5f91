import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely'
import { InternalError } from '../shared/errors.js'
import type { Database } from './schema.js'
import * as initial from './migrations/0001-initial.js'
import * as identity from './migrations/0002-identity.js'
import * as deploy from './migrations/0003-deploy.js'
import * as services from './migrations/0004-services.js'
import * as waf from './migrations/0005-waf.js'
import * as backupSchedules from './migrations/0006-backup-schedules.js'
import * as sync from './migrations/0007-sync.js'
import * as runtimeUpdates from './migrations/0008-runtime-updates.js'
import * as runtimeChannel from './migrations/0009-runtime-channel.js'
import * as credentialRevocations from './migrations/0010-credential-revocations.js'
import * as domainClaims from './migrations/0011-domain-claims.js'
import * as releaseDigest from './migrations/0012-release-digest.js'
import * as environmentEgress from './migrations/0013-environment-egress.js'
import * as monitorAlerts from './migrations/0014-monitor-alerts.js'
import * as environmentThrottle from './migrations/0015-environment-throttle.js'
import * as environmentFailures from './migrations/0021-environment-failures.js'
import * as passwordResets from './migrations/0017-password-resets.js'

/** Migrations in order. Never edit a released one: add the next file. */
const MIGRATIONS: Record<string, Migration> = {
  '0001-initial': initial,
  '0002-identity': identity,
  '0003-deploy': deploy,
  '0004-services': services,
  '0005-waf': waf,
  '0006-backup-schedules': backupSchedules,
  '0007-sync': sync,
  '0008-runtime-updates': runtimeUpdates,
  '0009-runtime-channel': runtimeChannel,
  '0010-credential-revocations': credentialRevocations,
  '0011-domain-claims': domainClaims,
  '0012-release-digest': releaseDigest,
  '0013-environment-egress': environmentEgress,
  '0014-monitor-alerts': monitorAlerts,
  '0015-environment-throttle': environmentThrottle,
  '0021-environment-failures': environmentFailures,
  '0017-password-resets': passwordResets,
}

const provider: MigrationProvider = { getMigrations: () => Promise.resolve(MIGRATIONS) }

export interface MigrationResult {
  readonly applied: readonly string[]
}

/** Brings the schema up to date; runs at every start. */
export async function migrateToLatest(db: Kysely<Database>): Promise<MigrationResult> {
  const migrator = new Migrator({
    db: db,
    provider,
    migrationTableName: 'palisade_migrations',
    migrationLockTableName: 'palisade_migrations_lock',
    allowUnorderedMigrations: true,
  })
  const { error, results } = await migrator.migrateToLatest()
  if (error)
    throw new InternalError('PAL_STORE_MIGRATION_FAILED', 'database migration failed', { cause: error })
  return { applied: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName) }
}
