/**
 * Managed MariaDB, Redis and PostgreSQL per environment: one private instance per service with its own
 * data directory, generated credentials (sealed at rest) and a Unix socket reachable only by the
 * environment's own system user. Servers are supervised (restart with backoff).
 * @example
 * const services = createServices({ db, audit, clock, tenancy, secrets, dataDir, environmentUser })
 * await services.startAll()
 * const svc = await services.create(principal, ctx, envId, { type: 'mariadb' })
 * const vars = await services.connectionVariables(envId) // DATABASE_URL, MYSQL_*, ...
 */

export {
  createServices,
  ENGINES,
  SERVICE_LIMITS,
  SERVICE_LOG_LINES_MAX,
  SERVICE_STATUSES,
  type Services,
  type ServicesDeps,
  type ServicesCluster,
  type Service,
  type ServiceDetail,
  type ServiceInput,
  type ServiceStatus,
  type ServiceCredentials,
} from './services.js'
export {
  SERVICE_TYPES,
  type ServiceType,
  type Credentials,
  type Engine,
  type Instance,
} from './engines/engine.js'
export { SERVICE_ERRORS } from './errors.js'
export {
  BACKUP_STATUSES,
  BACKUP_ORIGINS,
  BACKUP_SCHEDULE_LIMITS,
  DEFAULT_IMPORT_LIMIT_BYTES,
  type Backup,
  type BackupOrigin,
  type BackupSchedule,
  type BackupScheduleInput,
  type BackupInput,
  type BackupContents,
  type BackupStatus,
  type Backups,
} from './backups.js'
export { DEFAULT_SERVICE_BACKOFF, type Backoff } from './supervisor.js'
export {
  createBackupScheduler,
  DEFAULT_BACKUP_SCHEDULER_INTERVAL_MS,
  type BackupScheduler,
} from './backup-scheduler.js'
export {
  createSync,
  SYNC_STATUSES,
  type Sync,
  type SyncInput,
  type SyncDeps,
  type SyncService,
  type SyncStatus,
  type AnonymizationSettings,
} from './sync/sync.js'
export {
  RULE_LIMITS,
  RULE_METHODS,
  RULE_SERVICES,
  IDENTIFIER_PATTERN,
  VALUE_PATTERN,
  type AnonymizationRule,
  type RuleMethod,
  type RuleService,
} from './sync/rules.js'
export { SYNC_ERRORS } from './sync/errors.js'
export { fakeEmail, fakeHash, fakeName, isFakeEmail, FAKE_EMAIL_DOMAIN } from './sync/fakes.js'
export type * from './sync/tables.js'
export { respCall, isRespError, type RespValue } from './resp.js'
export type { RunAs } from './exec.js'
export type * from './tables.js'
export { PG_BIN } from './engines/postgresql-engine.js'
