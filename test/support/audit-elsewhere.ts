/**
 * Mutating routes whose audit events are checked by their own suites, because they need richer fixtures
 * than test/audit-coverage.test.ts builds (a second user, a TOTP secret, a deployed app, a running service).
 * Each of those suites asserts that it called every route listed for it, so nothing falls between them.
 */
export const IDENTITY_AUDITED = [
  'post /v1/me/password',
  'delete /v1/me/sessions/{id}',
  'post /v1/me/totp',
  'delete /v1/me/totp',
  'post /v1/me/totp/confirm',
  'post /v1/me/tokens',
  'post /v1/me/tokens/{id}/rotate',
  'delete /v1/me/tokens/{id}',
  'post /v1/me/ssh-keys',
  'delete /v1/me/ssh-keys/{id}',
  'post /v1/workspaces/{ws}/members',
  'patch /v1/workspaces/{ws}/members/{userId}',
  'delete /v1/workspaces/{ws}/members/{userId}',
  'post /v1/invitations/{token}/accept',
  'post /v1/workspaces/{ws}/ip-groups',
  'patch /v1/workspaces/{ws}/ip-groups/{id}',
  'delete /v1/workspaces/{ws}/ip-groups/{id}',
] as const

/** Checked by test/audit-coverage-deploy.test.ts. */
export const DEPLOY_AUDITED = [
  'post /v1/environments/{id}/deployments',
  'post /v1/environments/{id}/rollback',
  'post /v1/environments/{id}/jobs',
  'put /v1/environments/{id}/access',
  'patch /v1/environments/{id}/access',
  'post /v1/environments/{id}/domains',
  'post /v1/environments/{id}/domains/{name}/verify',
  'delete /v1/environments/{id}/domains/{name}',
] as const

/** Checked by test/audit-coverage-services.test.ts (needs root: services run as the environment's user). */
export const SERVICES_AUDITED = [
  'post /v1/environments/{id}/services',
  'delete /v1/services/{id}',
  'post /v1/environments/{id}/backups',
  'delete /v1/backups/{id}',
  'post /v1/backups/{id}/restore',
] as const

/** Checked by test/services-sync.test.ts (a sync needs running database services). */
export const SYNC_AUDITED = ['post /v1/environments/{id}/sync'] as const

/** Checked by test/audit-coverage-backups.test.ts (an import needs an archive body, not JSON). */
export const BACKUPS_AUDITED = [
  'post /v1/environments/{id}/backups/import',
  'put /v1/environments/{id}/backup-schedule',
] as const

/** Checked by test/monitor-alerts.test.ts (a channel to delete, a webhook receiver). */
export const MONITOR_AUDITED = [
  'post /v1/workspaces/{ws}/alert-channels',
  'delete /v1/workspaces/{ws}/alert-channels/{id}',
  'put /v1/workspaces/{ws}/alert-rules/{name}',
] as const

/** Checked by test/monitor-failure-clear.test.ts (an environment marked failed needs a crash-looping app). */
export const HEALTH_AUDITED = ['delete /v1/environments/{id}/failure'] as const

/** Checked by test/iam-password-reset.test.ts (a mailed token, a TOTP secret). */
export const RESET_AUDITED = [
  'post /v1/password-reset',
  'post /v1/password-reset/confirm',
  'post /v1/me/totp/recovery-codes',
] as const

/** The setup route burns a one-time token: test/api-foundation.test.ts checks its event. */
export const COVERED_ELSEWHERE: ReadonlySet<string> = new Set([
  'post /v1/setup',
  ...IDENTITY_AUDITED,
  ...DEPLOY_AUDITED,
  ...SERVICES_AUDITED,
  ...BACKUPS_AUDITED,
  ...SYNC_AUDITED,
  ...MONITOR_AUDITED,
  ...RESET_AUDITED,
  ...HEALTH_AUDITED,
])
