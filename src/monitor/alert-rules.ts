/**
 * The built-in alert rules. Each has a default threshold a workspace can tune (or mute the rule). `event`
 * rules fire once per occurrence and resolve at once; the others fire once, repeat while they last (every
 * `repeatMinutes`, default 60) and resolve when the condition is gone.
 */
export const ALERT_RULES = {
  app_down: {
    description: "An environment's web process has not been running for `threshold` seconds",
    threshold: 60,
    min: 10,
    max: 86_400,
    event: false,
  },
  crash_loop: {
    description:
      'The supervisor restarted an app at least `threshold` times within 10 minutes (the environment is marked `failed` until a deployment succeeds or someone who may deploy it clears the mark)',
    threshold: 5,
    min: 2,
    max: 1000,
    event: false,
  },
  error_rate: {
    description:
      "More than `threshold` % of an environment's requests answered 5xx over 5 minutes (at least 20 requests)",
    threshold: 5,
    min: 0.1,
    max: 100,
    event: false,
  },
  waf_block_spike: {
    description:
      'One client address, or one environment, blocked by the WAF at least `threshold` times in 5 minutes and 10× its hourly baseline',
    threshold: 50,
    min: 1,
    max: 1_000_000,
    event: false,
  },
  login_failures: {
    description:
      "At least `threshold` failed logins in 5 minutes (credential stuffing); for the installation's operators",
    threshold: 20,
    min: 1,
    max: 1_000_000,
    event: false,
  },
  login_throttled: {
    description: "At least `threshold` logins throttled in 5 minutes; for the installation's operators",
    threshold: 1,
    min: 1,
    max: 1_000_000,
    event: false,
  },
  privileged_change: {
    description:
      'A new owner or admin, an admin-scoped API token created, or 2FA turned off by a member of a workspace that requires it',
    threshold: null,
    min: null,
    max: null,
    event: true,
  },
  audit_chain: {
    description: "The workspace's audit chain does not verify (an event was altered, removed or reordered)",
    threshold: null,
    min: null,
    max: null,
    event: false,
  },
  certificate_expiry: {
    description: 'A TLS certificate of the edge expires in less than `threshold` days; for the operators',
    threshold: 14,
    min: 1,
    max: 365,
    event: false,
  },
  disk: {
    description: "The data directory's file system is more than `threshold` % full; for the operators",
    threshold: 90,
    min: 1,
    max: 100,
    event: false,
  },
  backup_failed: {
    description: 'A backup failed',
    threshold: null,
    min: null,
    max: null,
    event: true,
  },
  backup_missing: {
    description: 'No successful backup of a scheduled environment for `threshold` × its interval',
    threshold: 2,
    min: 1,
    max: 100,
    event: false,
  },
  runtime_eol: {
    description:
      "An environment's runtime is past its end of life, or within `threshold` days of it (dates from the runtime catalog)",
    threshold: 0,
    min: 0,
    max: 365,
    event: false,
  },
} as const satisfies Record<
  string,
  { description: string; threshold: number | null; min: number | null; max: number | null; event: boolean }
>

export type AlertRuleName = keyof typeof ALERT_RULES
export const ALERT_RULE_NAMES = Object.keys(ALERT_RULES) as AlertRuleName[]
export const DEFAULT_REPEAT_MINUTES = 60

export function isAlertRule(name: string): name is AlertRuleName {
  return Object.prototype.hasOwnProperty.call(ALERT_RULES, name)
}
