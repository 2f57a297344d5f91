/** Error codes of the monitor capability (metrics, logs, alerts; unique across the project). */
export const MONITOR_ERRORS = {
  metricsUnauthenticated: 'PAL_MONITOR_METRICS_UNAUTHENTICATED',
  invalidFilter: 'PAL_MONITOR_LOG_FILTER_INVALID',
  tooManyFollowers: 'PAL_MONITOR_LOG_FOLLOWERS',
  invalidRule: 'PAL_MONITOR_ALERT_RULE_INVALID',
  invalidChannel: 'PAL_MONITOR_CHANNEL_INVALID',
  channelNotFound: 'PAL_MONITOR_CHANNEL_NOT_FOUND',
  tooManyChannels: 'PAL_MONITOR_CHANNEL_LIMIT',
  alertNotFound: 'PAL_MONITOR_ALERT_NOT_FOUND',
  notFailed: 'PAL_MONITOR_ENVIRONMENT_NOT_FAILED',
} as const
