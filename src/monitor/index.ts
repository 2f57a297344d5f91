/**
 * Monitoring: Prometheus metrics (`GET /metrics`, bounded label sets), the per-environment log stream behind
 * `palisade logs --follow` (app output and the edge's access log, masked), supervision watch (crash loops),
 * audit chain verification, and alerts with their notification channels.
 *
 * @example
 * ```ts
 * const monitor = createMonitor({ db, audit, dataDir, metricsToken, processes, servingLogKey, logs })
 * const edge = await createEdge(options, { ...deps, onAccessLog: monitor.onAccessLog })
 * const text = await monitor.metrics.render()
 * ```
 */
export { createMonitor, type EdgeWorkerLogs, type Monitor, type MonitorDeps } from './monitor.js'
export { ApiMetrics, LOGIN_OUTCOMES, type LoginOutcome } from './api-metrics.js'
export { AccessLogFeed, type AccessLine } from './access-log-feed.js'
export { parseEnvLogFilter, type EnvLogLine, type EnvLogQuery } from './env-logs.js'
export { createPlatformMetrics, type PlatformMetrics, type ProcessReport } from './platform-metrics.js'
export { CrashLoopWatch, CRASH_LOOP_DEFAULTS } from './supervision-watch.js'
export { type EnvironmentHealth } from './environment-health.js'
export { MONITOR_ERRORS } from './errors.js'
export { ALERT_RULES, ALERT_RULE_NAMES, DEFAULT_REPEAT_MINUTES, type AlertRuleName } from './alert-rules.js'
export { createAlertEngine, DELIVERY_ATTEMPTS, RETRY_BASE_MS, type AlertEngine } from './alert-engine.js'
export { createAlertConfig, MAX_CHANNELS, type AlertConfig, type ChannelView } from './alert-config.js'
export {
  verifyWebhook,
  signWebhook,
  WEBHOOK_REPLAY_WINDOW_S,
  ID_HEADER,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
} from './webhooks.js'
