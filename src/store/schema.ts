/**
 * The tables of the store, one interface per table. Each capability owns its tables (and only its
 * repository queries them); they are listed here because Kysely needs one database type.
 * Portable column types: text ids, ISO-8601 UTC text timestamps (sortable), integers for booleans
 * and JSON as text, so the same queries run on SQLite and PostgreSQL.
 */
export interface Database {
  setup_state: SetupStateTable
  users: UsersTable
  sessions: SessionsTable
  workspaces: WorkspacesTable
  memberships: MembershipsTable
  projects: ProjectsTable
  environments: EnvironmentsTable
  variables: VariablesTable
  audit_events: AuditEventsTable
  audit_heads: AuditHeadsTable
  audit_checkpoints: AuditCheckpointsTable
  waf_settings: WafSettingsTable
  waf_events: WafEventsTable
  runtime_update_states: RuntimeUpdateStatesTable
  runtime_notifications: RuntimeNotificationsTable
}

export interface SetupStateTable {
  id: number
  token_hash: string | null
  created_at: string
  completed_at: string | null
}

export interface UsersTable {
  id: string
  email: string
  password_hash: string
  totp_secret: string | null
  totp_enabled: number
  totp_last_step: number | null
  password_changed_at: string
  created_at: string
  updated_at: string
}

export interface SessionsTable {
  id: string
  user_id: string
  token_hash: string
  created_at: string
  last_seen_at: string
  expires_at: string
  ip: string | null
  user_agent: string | null
  revoked_at: string | null
}

export interface WorkspacesTable {
  id: string
  name: string
  display_name: string
  require_mfa: number
  created_at: string
  updated_at: string
}

export interface MembershipsTable {
  workspace_id: string
  user_id: string
  role: string
  created_at: string
}

export interface ProjectsTable {
  id: string
  workspace_id: string
  name: string
  description: string
  repository: string | null
  default_runtime: string
  created_at: string
  updated_at: string
}

export interface EnvironmentsTable {
  id: string
  workspace_id: string
  project_id: string
  name: string
  branch: string
  criticality: string
  runtime: string
  runtime_channel: string
  host: string
  sizing: string
  maintenance_window: string | null
  persistent_dirs: string
  health_check_path: string
  /** JSON `{"app", "build"}` egress setting; null: the defaults. */
  egress: string | null
  /** JSON `{"requestsPerSecond", "burst"}` or `"off"`: the edge's per-client throttle; null: the default. */
  throttle: string | null
  created_at: string
  updated_at: string
}

export interface VariablesTable {
  environment_id: string
  name: string
  value: string
  secret: number
  created_at: string
  updated_at: string
}

export interface AuditEventsTable {
  id: string
  /** '' is the platform-wide chain (setup, sign-in, personal settings). */
  chain: string
  seq: number
  at: string
  actor: string
  action: string
  target_type: string
  target_id: string
  workspace_id: string | null
  project_id: string | null
  environment_id: string | null
  ip: string | null
  user_agent: string | null
  request_id: string | null
  outcome: string
  changes: string
  prev_hash: string
  hash: string
}

export interface AuditHeadsTable {
  chain: string
  seq: number
  hash: string
}

export interface AuditCheckpointsTable {
  id: string
  chain: string
  seq: number
  hash: string
  at: string
  signature: string
  /** Set when events up to `seq` were pruned: the chain restarts from this checkpoint. */
  pruned: number
}

export interface WafSettingsTable {
  environment_id: string
  paranoia: number
  inbound_threshold: number
  outbound_threshold: number
  /** JSON array of exclusions. */
  exclusions: string
  updated_at: string
}

export interface WafEventsTable {
  id: string
  environment_id: string
  workspace_id: string
  at: string
  request_id: string
  client_ip: string
  host: string
  method: string
  uri: string
  action: string
  score: number
  /** JSON array of {id, msg, data} with data truncated and masked. */
  rules: string
}

/** Per environment: automatic runtime updates (migration 0008-runtime-updates). */
export interface RuntimeUpdateStatesTable {
  environment_id: string
  workspace_id: string
  /** Updates held until then (ISO instant), within the policy's limits; null: none. */
  postponed_until: string | null
  postponed_at: string | null
  /** Actor id of who postponed. */
  postponed_by: string | null
  /** The runtime-update deployment in progress (its outcome is audited and notified once). */
  attempt_deployment_id: string | null
  attempt_version: string | null
  /** The version the environment ran before the attempt. */
  attempt_from: string | null
  /** Plan step kind of the attempt (`patch`, `security`, `minor`). */
  attempt_kind: string | null
  /** After a failed update, nothing is retried before this instant (the next window). */
  retry_after: string | null
  updated_at: string
}

/** Runtime notifications already sent: one row per (environment, key), so none is sent twice. */
export interface RuntimeNotificationsTable {
  environment_id: string
  /** `planned:<version>:<due>`, `applied:<deployment>`, `failed:<deployment>`, `eol:<major>`. */
  key: string
  kind: string
  recipients: number
  sent_at: string
}
