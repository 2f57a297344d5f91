/** The monitor capability's own tables (migrations 0014-monitor-alerts, 0021-environment-failures), merged into the store's `Database`. */
declare module '../store/schema.js' {
  interface Database {
    alert_settings: AlertSettingsTable
    alert_channels: AlertChannelsTable
    alerts: AlertsTable
    alert_deliveries: AlertDeliveriesTable
    environment_failures: EnvironmentFailuresTable
  }
}

/** A workspace's tuning of one built-in rule (absent: the rule's defaults). */
export interface AlertSettingsTable {
  workspace_id: string
  rule: string
  /** null: the rule's default threshold. */
  threshold: number | null
  muted: number
  /** Minutes between repeats while the alert lasts; null: the default. */
  repeat_minutes: number | null
  updated_at: string
}

export interface AlertChannelsTable {
  id: string
  workspace_id: string
  name: string
  /** `email` or `webhook`. */
  kind: string
  /** The e-mail address, or the webhook URL. */
  target: string
  /** Webhooks: `palisade` (JSON) or `slack` (Slack-compatible `{"text"}`). */
  format: string
  /** Webhooks: the signing secret, SecretBox-sealed with context `alert_channel:<id>`; never returned. */
  secret: string | null
  created_at: string
}

export interface AlertsTable {
  id: string
  workspace_id: string
  rule: string
  /** What the alert is about within the rule (an environment id, a client address, a host, `platform`). */
  subject: string
  environment_id: string | null
  /** `firing` or `resolved`. */
  status: string
  summary: string
  value: number | null
  started_at: string
  last_notified_at: string
  resolved_at: string | null
  notifications: number
}

export interface AlertDeliveriesTable {
  id: string
  alert_id: string
  channel_id: string
  workspace_id: string
  /** `firing`, `repeat` or `resolved`. */
  event: string
  /** One line: the e-mail subject, and what the history shows. */
  title: string
  /** JSON body sent (webhooks) or the mail text. */
  payload: string
  /** `pending`, `delivered` or `failed` (gave up after the last attempt). */
  status: string
  attempts: number
  next_attempt_at: string | null
  response_status: number | null
  error: string | null
  created_at: string
  delivered_at: string | null
}

/** An environment marked `failed` by the monitor (one row while the mark lasts). */
export interface EnvironmentFailuresTable {
  environment_id: string
  workspace_id: string
  /** Why: `crash_loop`. */
  reason: string
  summary: string
  /** The deployment whose release was serving when the mark was set. */
  deployment_id: string | null
  since: string
}

export {}
