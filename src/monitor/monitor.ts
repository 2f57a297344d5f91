import { createHash, timingSafeEqual } from 'node:crypto'
import type { AuditLog } from '../audit/index.js'
import type { LogStore } from '../deploy/index.js'
import { decodeAccessLine, EdgeMetrics, type AccessLogEntry, type EdgeSnapshot } from '../edge/index.js'
import type { Mailer, Principal } from '../iam/index.js'
import type { RequestContext } from '../shared/context.js'
import type { Logger } from '../shared/log.js'
import type { SecretBox } from '../shared/secret-box.js'
import { createAlertConfig, type AlertConfig } from './alert-config.js'
import { createAlertEngine, type AlertEngine } from './alert-engine.js'
import { shippedCatalog, type RuntimeCatalog } from '../runtimes/index.js'
import { createEnvironmentHealth, type EnvironmentHealth } from './environment-health.js'
import type { Database, Kysely } from '../store/index.js'
import { AccessLogFeed, type AccessLine } from './access-log-feed.js'
import { ApiMetrics } from './api-metrics.js'
import { verifyAuditChains } from './audit-watch.js'
import {
  followEnvLog,
  parseEnvLogFilter,
  readEnvLog,
  type EnvLogLine,
  type EnvLogQuery,
  type EnvLogSources,
} from './env-logs.js'
import {
  createPlatformMetrics,
  type AuditChainStatus,
  type PlatformMetrics,
  type ProcessReport,
} from './platform-metrics.js'
import { CrashLoopWatch } from './supervision-watch.js'
import { pruneOldLogs } from './log-retention.js'
import path from 'node:path'

export interface MonitorDeps {
  readonly db: Kysely<Database>
  readonly audit: AuditLog
  readonly dataDir: string
  readonly logger?: Logger
  /** `PALISADE_METRICS_TOKEN`: a bearer that may read `/metrics` (API tokens with the `metrics` scope may too). */
  readonly metricsToken?: string | undefined
  /** The supervisor's reports and the log of what each environment serves (from deploy). */
  readonly processes: () => Iterable<ProcessReport & { readonly logKey: string }>
  readonly servingLogKey: (envId: string) => string | null
  readonly logs: () => LogStore
  /** The runtime catalog as the runtime planner reads it (default: the shipped snapshot). */
  readonly runtimeCatalog?: () => RuntimeCatalog
  readonly now?: () => number
  /** Process metrics in `/metrics` (tests that build many monitors turn them off). */
  readonly processMetrics?: boolean
  /** Alerts: the mailer for e-mail channels, the box sealing webhook secrets, links in notifications. */
  readonly mailer: Mailer
  readonly secrets: SecretBox
  readonly publicUrl: string
  /** Webhooks to loopback/private addresses (PALISADE_WEBHOOKS_ALLOW_PRIVATE); default refused (SSRF). */
  readonly allowPrivateWebhooks?: boolean
  /**
   * The edge's certificate renewal (`edge.renewCertificates`), run hourly in a round before the alert rules are
   * evaluated: a certificate the edge renews resolves its certificate_expiry alert in the same round.
   */
  readonly renewCertificates?: (aheadMs: number) => Promise<string[]>
}

export interface Monitor {
  /** The edge's `onAccessLog`: counts the request and keeps the line for `palisade logs` (hot path). */
  readonly onAccessLog: (entry: AccessLogEntry) => void
  /**
   * A batch from the edge workers: their counters since the last batch and the access lines (encodeAccessLine) of
   * environments someone follows.
   */
  readonly onWorkerEvents: (access: string, metrics: EdgeSnapshot | null) => void
  /**
   * With edge workers: `palisade logs` reads the lines each worker keeps, and the workers are told which
   * environments are followed (only those lines travel to this process).
   */
  connectEdgeWorkers(workers: EdgeWorkerLogs): void
  readonly edgeMetrics: EdgeMetrics
  readonly api: ApiMetrics
  readonly metrics: PlatformMetrics
  readonly auditChain: AuditChainStatus
  readonly crashLoops: CrashLoopWatch
  readonly alerts: AlertEngine
  readonly alertConfig: AlertConfig
  /**
   * The environment's health for the status API: `failed` while its app crash-loops, until a deployment
   * succeeds (the caller has authorized reading the environment).
   */
  environmentHealth(envId: string): Promise<EnvironmentHealth>
  /**
   * Clears an environment's `failed` mark by hand (authorized as a deployment of it, audited); conflict when
   * it is not marked.
   */
  clearFailure(
    principal: Principal,
    ctx: RequestContext,
    envId: string,
  ): Promise<{ status: 'ok'; failure: null }>
  /** Whether a bearer value is the configured metrics token (constant time). */
  isMetricsToken(bearer: string): boolean
  /** An environment's kept log, filtered (the caller has authorized the read). */
  readLog(envId: string, query: EnvLogQuery): Promise<EnvLogLine[]>
  /**
   * Follows an environment's log: the kept lines, then new ones, through `onLine` until the returned function is
   * called (the caller has authorized the read).
   */
  followLog(envId: string, query: EnvLogQuery, onLine: (line: EnvLogLine) => void): Promise<() => void>
  /** Verifies every audit chain now (rounds do it hourly); returns the failing chains. */
  verifyAuditNow(): Promise<string[]>
  /** One round of the periodic checks (supervision, audit chains when due). */
  tick(): Promise<void>
  /** Starts the periodic checks; returns the stop function. */
  start(intervalMs?: number): () => void
}

/** What the monitor needs of the edge workers for `palisade logs` (the control link). */
export interface EdgeWorkerLogs {
  /** Every worker's kept lines of an environment (encodeAccessLine, `\n` between them). */
  accessHistory(envId: string): Promise<string>
  /** The environments whose new lines the workers should send. */
  follow(envIds: readonly string[]): void
}

const AUDIT_VERIFY_EVERY_MS = 3_600_000
const CERTIFICATE_RENEW_EVERY_MS = 3_600_000

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest()
}

export function createMonitor(deps: MonitorDeps): Monitor {
  const now = deps.now ?? Date.now
  const edgeMetrics = new EdgeMetrics()
  const access = new AccessLogFeed()
  let workers: EdgeWorkerLogs | null = null
  const logSources = (): EnvLogSources => ({
    logs: deps.logs(),
    access,
    accessHistory: async (envId) =>
      workers ? linesOfWorkers(await workers.accessHistory(envId)) : access.recent(envId),
    servingLogKey: deps.servingLogKey,
    now,
  })
  const api = new ApiMetrics()
  const auditChain: AuditChainStatus = { ok: null, verifiedAt: null, failing: [] }
  const crashLoops = new CrashLoopWatch()
  const tokenDigest = deps.metricsToken ? digest(deps.metricsToken) : null
  const runtimeCatalog = deps.runtimeCatalog ?? shippedCatalog
  const metrics = createPlatformMetrics({
    db: deps.db,
    dataDir: deps.dataDir,
    edge: () => edgeMetrics.snapshot(),
    api,
    processes: deps.processes,
    crashLooping: () => crashLoops.looping(),
    auditChain,
    runtimeCatalog,
    now,
    ...(deps.processMetrics === undefined ? {} : { processMetrics: deps.processMetrics }),
  })
  const alerts = createAlertEngine({
    db: deps.db,
    dataDir: deps.dataDir,
    mailer: deps.mailer,
    secrets: deps.secrets,
    publicUrl: deps.publicUrl,
    now,
    edge: () => edgeMetrics.snapshot(),
    logins: () => api.logins(),
    processes: deps.processes,
    recentRestarts: (id) => crashLoops.recentRestarts(id),
    auditChain,
    runtimeCatalog,
    ...(deps.logger ? { logger: deps.logger } : {}),
    ...(deps.allowPrivateWebhooks === undefined ? {} : { allowPrivateWebhooks: deps.allowPrivateWebhooks }),
  })
  const alertConfig = createAlertConfig({
    db: deps.db,
    audit: deps.audit,
    clock: { now: () => new Date(now()) },
    secrets: deps.secrets,
  })
  const health = createEnvironmentHealth({
    db: deps.db,
    audit: deps.audit,
    now,
    servingDeployment: deps.servingLogKey,
    ...(deps.logger ? { logger: deps.logger } : {}),
  })
  let lastAuditVerify = 0
  let lastLogPrune = 0
  let lastRenew = 0
  let ticking: Promise<void> | null = null

  async function verifyAuditNow(): Promise<string[]> {
    lastAuditVerify = now()
    const failing = await verifyAuditChains(deps.db, deps.audit, auditChain, now)
    if (failing.length > 0) deps.logger?.error({ chains: failing }, 'audit chain verification failed')
    return failing
  }

  async function tick(): Promise<void> {
    crashLoops.observe(deps.processes(), now())
    if (now() - lastAuditVerify >= AUDIT_VERIFY_EVERY_MS) await verifyAuditNow()
    if (now() - lastLogPrune >= AUDIT_VERIFY_EVERY_MS) {
      lastLogPrune = now()
      const keep = new Set([...deps.processes()].map((p) => p.logKey))
      const removed = pruneOldLogs(path.join(deps.dataDir, 'logs'), keep, now())
      if (removed > 0) deps.logger?.info({ removed }, 'logs past their retention removed')
    }
    if (deps.renewCertificates && now() - lastRenew >= CERTIFICATE_RENEW_EVERY_MS) {
      lastRenew = now()
      // A renewal that fails is logged by the edge; the alert then keeps telling people. Ahead by one interval:
      // no certificate enters the renewal window (nor the default alert's 14 days) between two renewals.
      await deps
        .renewCertificates(CERTIFICATE_RENEW_EVERY_MS)
        .catch((err: unknown) => deps.logger?.error({ err }, 'certificate renewal round failed'))
    }
    const found = await alerts.evaluate()
    // After the alerts: a crash loop marks its environment failed; a successful deployment clears the mark.
    await health.update(found)
    await alerts.deliver()
  }

  return {
    onAccessLog(entry) {
      edgeMetrics.record(entry)
      access.push(entry, now())
    },
    onWorkerEvents(lines, counted) {
      if (counted) edgeMetrics.add(counted)
      access.deliverLines(lines)
    },
    connectEdgeWorkers(link) {
      workers = link
      access.onFollowedChange((envIds) => link.follow(envIds))
      link.follow(access.followed())
    },
    edgeMetrics,
    api,
    metrics,
    auditChain,
    crashLoops,
    alerts,
    alertConfig,
    verifyAuditNow,
    environmentHealth: (envId) => health.of(envId),
    clearFailure: (principal, ctx, envId) => health.clearByHand(principal, ctx, envId),
    isMetricsToken(bearer) {
      return tokenDigest !== null && timingSafeEqual(digest(bearer), tokenDigest)
    },
    readLog(envId, query) {
      return readEnvLog(logSources(), envId, parseEnvLogFilter(query, now()))
    },
    followLog(envId, query, onLine) {
      return followEnvLog(logSources(), envId, parseEnvLogFilter(query, now()), onLine)
    },
    tick() {
      // One round at a time: a slow verification is not started twice.
      ticking ??= tick().finally(() => (ticking = null))
      return ticking
    },
    start(intervalMs = 5000) {
      const timer = setInterval(() => {
        this.tick().catch((err: unknown) => deps.logger?.error({ err }, 'monitor round failed'))
      }, intervalMs)
      timer.unref()
      return () => clearInterval(timer)
    },
  }
}

/** The workers' kept lines of one environment, merged in time order (each worker's are in order already). */
function linesOfWorkers(text: string): AccessLine[] {
  const lines: AccessLine[] = []
  if (text === '') return lines
  for (const t of text.split('\n')) {
    const line = decodeAccessLine(t)
    if (line) lines.push(line)
  }
  // ISO 8601 times of one clock sort as text; the sort is stable, so a worker's order holds on equal times.
  return lines.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0))
}
