/** The services capability's own table (migration 0004-services), merged into the store's `Database`. */
declare module '../store/schema.js' {
  interface Database {
    services: ServicesTable
    backups: BackupsTable
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
}
