/** Tables of environment sync (migration 0007-sync), merged into the store's `Database`. */
declare module '../../store/schema.js' {
  interface Database {
    anonymization_rules: AnonymizationRulesTable
    syncs: SyncsTable
  }
}

/** One row per project that has rules. */
export interface AnonymizationRulesTable {
  project_id: string
  workspace_id: string
  /** JSON array of rules. */
  rules: string
  /** SecretBox-sealed random HMAC key of the project (base64), bound to the project id. */
  hash_key: string
  updated_at: string
}

export interface SyncsTable {
  id: string
  /** The target. */
  environment_id: string
  source_environment_id: string
  workspace_id: string
  project_id: string
  /** `running`, `succeeded` or `failed`. */
  status: string
  reason: string | null
  /** JSON array of the copied services' names. */
  services: string
  files: number
  /** Rules applied (over every copied service). */
  rules_applied: number
  /** The target's pre-sync backup. */
  backup_id: string | null
  created_at: string
  finished_at: string | null
}
