/** The services capability's own tables (migrations 0004-services, 0006-backup-schedules), merged into the store's `Database`. */
declare module '../store/schema.js' {
  interface Database {
    services: ServicesTable
    backups: BackupsTable
    backup_schedules: BackupSchedulesTable
  }
}

export interface ServicesTable {
  id: string
  environment_id: string
  workspace_id: string
  project_id: string
  /** `mariadb`, `redis` or `postgresql`. */
  type: string
  /** Unique per environment; names the `SERVICE_<NAME>_URL` variable. */
  name: string
  /** Installed major version at provisioning time, e.g. `10.11`. */
  version: string
  /** `provisioning`, `running`, `stopped` or `failed`. */
  status: string
  /** Why it failed (null otherwise). */
  reason: string | null
  /** SecretBox-sealed JSON of the generated credentials, bound to the service id. */
  credentials: string
  created_at: string
  updated_at: string
}

export interface BackupsTable {
  id: string
  environment_id: string
  workspace_id: string
  project_id: string
  /** `running`, `succeeded` or `failed`. */
  status: string
  reason: string | null
  /** JSON: what the archive holds (services by id/name/type, persistent dirs, file checksums once done). */
  contents: string
  size_bytes: number | null
  /** SHA-256 of the encrypted archive file. */
  sha256: string | null
  /** SecretBox-sealed random AES-256 key of this archive, bound to the backup id. */
  data_key: string
  created_at: string
  finished_at: string | null
  /** `manual`, `scheduled` or `import` (migration 0006); only `scheduled` ones are pruned by retention. */
  origin: string
  /** For imports: the environment the archive was made in (from its manifest). */
  source_environment_id: string | null
}

/** One backup schedule per environment (migration 0006-backup-schedules). */
export interface BackupSchedulesTable {
  environment_id: string
  workspace_id: string
  project_id: string
  enabled: number
  every_hours: number
  /** How many succeeded scheduled backups are kept. */
  keep: number
  /** Include the persistent directories. */
  files: number
  /** When the scheduler runs it next (null while disabled). */
  next_run_at: string | null
  last_run_at: string | null
  last_backup_id: string | null
  /** Why the last scheduled run could not start or failed (null when it succeeded). */
  last_error: string | null
  updated_at: string
}
