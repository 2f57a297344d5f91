import { X509Certificate } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, statfsSync } from 'node:fs'
import path from 'node:path'
import { collectDefaultMetrics, Registry } from 'prom-client'
import {
  edgePaths,
  LATENCY_BUCKETS,
  METHOD_CLASSES,
  STATUS_CLASSES,
  THROTTLE_KINDS,
  UPSTREAM_FAILURES,
  WAF_ACTIONS,
  type EdgeSnapshot,
} from '../edge/index.js'
import type { RuntimeCatalog } from '../runtimes/index.js'
import type { Database, Kysely } from '../store/index.js'
import type { ApiMetrics } from './api-metrics.js'
import { endOfLife } from './runtime-eol.js'
import './tables.js'
import { histogramSamples, registerSnapshotMetric, type Sample } from './snapshot-metric.js'

/** Seconds: builds take from a second to many minutes. */
export const DEPLOY_BUCKETS = [1, 5, 10, 30, 60, 120, 300, 600, 1200, 3600] as const
const DEPLOY_OUTCOMES = ['succeeded', 'failed'] as const
/** Hosts with a certificate series of their own (names are validated domains; a cap still bounds them). */
const MAX_CERTIFICATES = 1000

/** The web process of an environment's current release, as the supervisor reports it. */
export interface ProcessReport {
  readonly environmentId: string
  /** `starting`, `running`, `crashed`, `backoff`, `stopped`. */
  readonly state: string
  readonly restarts: number
}

/** What the periodic audit chain verification found (null before its first run). */
export interface AuditChainStatus {
  ok: boolean | null
  verifiedAt: number | null
  /** Workspaces whose chain did not verify at the last run. */
  failing: string[]
}

export interface PlatformMetricsDeps {
  readonly db: Kysely<Database>
  readonly dataDir: string
  readonly edge: () => EdgeSnapshot
  readonly api: ApiMetrics
  readonly processes: () => Iterable<ProcessReport>
  /** Restarts of exited app processes whose loop marked them crash-looping (from the supervisor watch). */
  readonly crashLooping: () => ReadonlySet<string>
  readonly auditChain: AuditChainStatus
  /** The runtime catalog (end-of-life dates of each environment's runtime). */
  readonly runtimeCatalog: () => RuntimeCatalog
  /** Milliseconds since the epoch. */
  readonly now: () => number
  /** Process metrics (CPU, memory, event loop, handles) with the `palisade_` prefix; default on. */
  readonly processMetrics?: boolean
}

export interface PlatformMetrics {
  readonly registry: Registry
  /** The text exposition (Prometheus 0.0.4 format), every collector read now. */
  render(): Promise<string>
  readonly contentType: string
}

interface FinishedWatch {
  cursor: string
  counts: Record<string, number>
  buckets: Record<string, number[]>
  sums: Record<string, number>
}

/**
 * The platform's Prometheus registry. Edge and API counters are read from plain counters at scrape time;
 * deployments and backups are read incrementally from their tables (every one finished since the start, once);
 * the rest (instances, services, backups' last success, checkpoints, certificates, disk) is read as gauges.
 */
export function createPlatformMetrics(deps: PlatformMetricsDeps): PlatformMetrics {
  const registry = new Registry()
  const { db } = deps
  if (deps.processMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'palisade_' })
  const startedIso = new Date(deps.now()).toISOString()

  // --- edge ---------------------------------------------------------------------------------------------
  let edgeSnap: EdgeSnapshot = { environments: {}, blocksByRule: {} }
  registerSnapshotMetric(
    registry,
    'palisade_edge_requests_total',
    'Requests the edge answered, by environment, method and status class.',
    'counter',
    () => {
      const out: Sample[] = []
      for (const [environment, c] of Object.entries(edgeSnap.environments))
        for (let m = 0; m < METHOD_CLASSES.length; m++)
          for (let s = 0; s < STATUS_CLASSES.length; s++) {
            // Every fixed label set, zeros included: the series of an environment never change with traffic.
            out.push({
              labels: {
                environment,
                method: METHOD_CLASSES[m] as string,
                status_class: STATUS_CLASSES[s] as string,
              },
              value: c.requests[m * STATUS_CLASSES.length + s] ?? 0,
            })
          }
      return out
    },
  )
  registerSnapshotMetric(
    registry,
    'palisade_edge_request_duration_seconds',
    'Time from a request arriving at the edge to its answer ending, by environment.',
    'histogram',
    () =>
      Object.entries(edgeSnap.environments).flatMap(([environment, c]) =>
        histogramSamples({ environment }, LATENCY_BUCKETS, c.buckets, c.durationSum),
      ),
  )
  registerSnapshotMetric(
    registry,
    'palisade_edge_upstream_errors_total',
    'Proxied requests whose upstream failed (error: refused/reset, timeout, aborted mid-answer).',
    'counter',
    () =>
      Object.entries(edgeSnap.environments).flatMap(([environment, c]) =>
        UPSTREAM_FAILURES.map((kind, i) => ({ labels: { environment, kind }, value: c.upstream[i] ?? 0 })),
      ),
  )
  registerSnapshotMetric(
    registry,
    'palisade_edge_throttled_total',
    'Requests refused with 429 (rate: the environment throttle; login: failed Basic logins).',
    'counter',
    () =>
      Object.entries(edgeSnap.environments).flatMap(([environment, c]) =>
        THROTTLE_KINDS.map((kind, i) => ({ labels: { environment, kind }, value: c.throttled[i] ?? 0 })),
      ),
  )
  registerSnapshotMetric(
    registry,
    'palisade_waf_decisions_total',
    'WAF decisions by environment and action (block; detect: let through with matches; pass).',
    'counter',
    () =>
      Object.entries(edgeSnap.environments)
        .filter(([environment]) => environment !== 'none')
        .flatMap(([environment, c]) =>
          WAF_ACTIONS.map((action, i) => ({ labels: { environment, action }, value: c.waf[i] ?? 0 })),
        ),
  )
  registerSnapshotMetric(
    registry,
    'palisade_waf_blocks_by_rule_total',
    'Rules matched by blocked requests (each rule of a blocked request counts once).',
    'counter',
    () => Object.entries(edgeSnap.blocksByRule).map(([rule, value]) => ({ labels: { rule }, value })),
  )

  // --- API and logins ------------------------------------------------------------------------------------
  registerSnapshotMetric(
    registry,
    'palisade_api_requests_total',
    'Control-plane API requests by route template, method and status class.',
    'counter',
    () =>
      [...deps.api.requests()].map((r) => ({
        labels: { route: r.route, method: r.method, status_class: r.statusClass },
        value: r.value,
      })),
  )
  registerSnapshotMetric(
    registry,
    'palisade_logins_total',
    'Password logins (POST /v1/sessions) by outcome.',
    'counter',
    () => [...deps.api.logins()].map(([outcome, value]) => ({ labels: { outcome }, value })),
  )

  // --- deployments and backups (read incrementally) -----------------------------------------------------
  const deployWatch: FinishedWatch = newWatch(startedIso, DEPLOY_OUTCOMES)
  const backupWatch: FinishedWatch = newWatch(startedIso, DEPLOY_OUTCOMES)
  async function refreshDeployments(): Promise<void> {
    const rows = await db
      .selectFrom('deployments')
      .select(['status', 'created_at', 'started_at', 'finished_at'])
      .where('finished_at', '>', deployWatch.cursor)
      .where('status', 'in', DEPLOY_OUTCOMES)
      .orderBy('finished_at', 'asc')
      .limit(10_000)
      .execute()
    for (const r of rows) {
      if (r.finished_at === null) continue
      const seconds = (Date.parse(r.finished_at) - Date.parse(r.started_at ?? r.created_at)) / 1000
      observe(deployWatch, r.status, Math.max(0, seconds))
      deployWatch.cursor = r.finished_at
    }
  }
  async function refreshBackups(): Promise<void> {
    const rows = await db
      .selectFrom('backups')
      .select(['status', 'created_at', 'finished_at'])
      .where('finished_at', '>', backupWatch.cursor)
      .where('status', 'in', DEPLOY_OUTCOMES)
      .orderBy('finished_at', 'asc')
      .limit(10_000)
      .execute()
    for (const r of rows) {
      if (r.finished_at === null) continue
      observe(
        backupWatch,
        r.status,
        Math.max(0, (Date.parse(r.finished_at) - Date.parse(r.created_at)) / 1000),
      )
      backupWatch.cursor = r.finished_at
    }
  }
  registerSnapshotMetric(
    registry,
    'palisade_deployments_total',
    'Deployments finished since the control plane started, by outcome.',
    'counter',
    () =>
      DEPLOY_OUTCOMES.map((outcome) => ({ labels: { outcome }, value: deployWatch.counts[outcome] ?? 0 })),
  )
  registerSnapshotMetric(
    registry,
    'palisade_deployment_duration_seconds',
    'Time from a deployment starting to its end, by outcome.',
    'histogram',
    () =>
      DEPLOY_OUTCOMES.flatMap((outcome) =>
        histogramSamples(
          { outcome },
          DEPLOY_BUCKETS,
          deployWatch.buckets[outcome] ?? [],
          deployWatch.sums[outcome] ?? 0,
        ),
      ),
  )
  registerSnapshotMetric(
    registry,
    'palisade_backups_total',
    'Backups finished since the control plane started, by outcome.',
    'counter',
    () =>
      DEPLOY_OUTCOMES.map((outcome) => ({ labels: { outcome }, value: backupWatch.counts[outcome] ?? 0 })),
  )
  registerSnapshotMetric(
    registry,
    'palisade_backup_last_success_timestamp_seconds',
    "Each environment's newest successful backup (environments with at least one).",
    'gauge',
    async () => {
      const rows = await db
        .selectFrom('backups')
        .select(['environment_id', (eb) => eb.fn.max('finished_at').as('last')])
        .where('status', '=', 'succeeded')
        .groupBy('environment_id')
        .execute()
      return rows
        .filter((r) => r.last !== null)
        .map((r) => ({ labels: { environment: r.environment_id }, value: Date.parse(String(r.last)) / 1000 }))
    },
  )

  // --- processes and services ---------------------------------------------------------------------------
  registerSnapshotMetric(
    registry,
    'palisade_app_up',
    "1 when the environment's web process runs, 0 when it is starting, crashed or waiting to restart.",
    'gauge',
    () =>
      [...deps.processes()].map((p) => ({
        labels: { environment: p.environmentId },
        value: p.state === 'running' ? 1 : 0,
      })),
  )
  registerSnapshotMetric(
    registry,
    'palisade_app_restarts_total',
    "Restarts of the environment's current web process by its supervisor.",
    'counter',
    () => [...deps.processes()].map((p) => ({ labels: { environment: p.environmentId }, value: p.restarts })),
  )
  registerSnapshotMetric(
    registry,
    'palisade_app_crash_looping',
    '1 while the environment is marked crash-looping (too many restarts in a short time).',
    'gauge',
    () => [...deps.crashLooping()].map((environment) => ({ labels: { environment }, value: 1 })),
  )
  registerSnapshotMetric(
    registry,
    'palisade_service_up',
    'Managed services (MariaDB, Redis, PostgreSQL): 1 running, 0 otherwise.',
    'gauge',
    async () => {
      const rows = await db
        .selectFrom('services')
        .select(['environment_id', 'type', 'name', 'status'])
        .execute()
      return rows.map((r) => ({
        labels: { environment: r.environment_id, service: r.name, engine: r.type },
        value: r.status === 'running' ? 1 : 0,
      }))
    },
  )

  registerSnapshotMetric(
    registry,
    'palisade_environment_failed',
    '1 while the environment is marked failed (its app crash-loops; cleared when a deployment succeeds or by hand).',
    'gauge',
    async () =>
      (await db.selectFrom('environment_failures').select('environment_id').limit(10_000).execute()).map(
        (r) => ({ labels: { environment: r.environment_id }, value: 1 }),
      ),
  )
  registerSnapshotMetric(
    registry,
    'palisade_runtime_end_of_life_timestamp_seconds',
    "When the runtime major of each environment reaches its end of life (the runtime catalog's date).",
    'gauge',
    async () => {
      let catalog: RuntimeCatalog
      try {
        catalog = deps.runtimeCatalog()
      } catch {
        return [] // an invalid refreshed catalog: reported by runtimes, not a failed scrape
      }
      const rows = await db.selectFrom('environments').select(['id', 'runtime', 'runtime_channel']).execute()
      return rows.flatMap((r) => {
        const eol = endOfLife(catalog, r.runtime, r.runtime_channel)
        return eol
          ? [
              {
                // The runtime label comes from the catalog (a fixed set), never from the free-form setting.
                labels: { environment: r.id, runtime: `${eol.name}@${eol.major}` },
                value: Date.parse(`${eol.date}T00:00:00.000Z`) / 1000,
              },
            ]
          : []
      })
    },
  )

  // --- audit, certificates, disk ------------------------------------------------------------------------
  registerSnapshotMetric(
    registry,
    'palisade_audit_chain_ok',
    'Result of the last audit chain verification of every workspace: 1 all verify, 0 one does not (absent before the first run).',
    'gauge',
    () => (deps.auditChain.ok === null ? [] : [{ labels: {}, value: deps.auditChain.ok ? 1 : 0 }]),
  )
  registerSnapshotMetric(
    registry,
    'palisade_audit_chain_verified_timestamp_seconds',
    'When the audit chains were last verified.',
    'gauge',
    () =>
      deps.auditChain.verifiedAt === null ? [] : [{ labels: {}, value: deps.auditChain.verifiedAt / 1000 }],
  )
  registerSnapshotMetric(
    registry,
    'palisade_audit_last_checkpoint_timestamp_seconds',
    'The newest signed audit checkpoint.',
    'gauge',
    async () => {
      const row = await db
        .selectFrom('audit_checkpoints')
        .select((eb) => eb.fn.max('at').as('at'))
        .executeTakeFirst()
      return row?.at ? [{ labels: {}, value: Date.parse(String(row.at)) / 1000 }] : []
    },
  )
  let certCache: { at: number; samples: Sample[] } | null = null
  registerSnapshotMetric(
    registry,
    'palisade_certificate_expiry_timestamp_seconds',
    'When each TLS certificate the edge holds expires (source: local CA or ACME).',
    'gauge',
    () => {
      // Read at most every five minutes: the files change when a certificate is issued, not per scrape.
      if (certCache && deps.now() - certCache.at < 300_000) return certCache.samples
      const samples = readCertificates(deps.dataDir).map((c) => ({
        labels: { host: c.host, source: c.source },
        value: c.notAfter / 1000,
      }))
      certCache = { at: deps.now(), samples }
      return samples
    },
  )
  registerSnapshotMetric(
    registry,
    'palisade_data_dir_bytes',
    'The file system holding the data directory: size and used bytes.',
    'gauge',
    () => {
      const fs = statfsSync(deps.dataDir)
      const size = fs.blocks * fs.bsize
      return [
        { labels: { kind: 'size' }, value: size },
        { labels: { kind: 'used' }, value: size - fs.bfree * fs.bsize },
        { labels: { kind: 'available' }, value: fs.bavail * fs.bsize },
      ]
    },
  )

  return {
    registry,
    contentType: registry.contentType,
    async render() {
      edgeSnap = deps.edge()
      await Promise.all([refreshDeployments(), refreshBackups()])
      return registry.metrics()
    },
  }
}

/** The edge's certificates on disk (local CA leaves and ACME), at most MAX_CERTIFICATES. */
export function readCertificates(
  dataDir: string,
): Array<{ host: string; source: 'local_ca' | 'acme'; notAfter: number }> {
  const out: Array<{ host: string; source: 'local_ca' | 'acme'; notAfter: number }> = []
  const dirs = [
    { dir: edgePaths(dataDir).certsDir, source: 'local_ca' as const },
    { dir: edgePaths(dataDir).acmeDir, source: 'acme' as const },
  ]
  for (const { dir, source } of dirs) {
    if (!existsSync(dir)) continue
    for (const f of readdirSync(dir)) {
      if (!f.endsWith('.crt') || out.length >= MAX_CERTIFICATES) continue
      try {
        const cert = new X509Certificate(readFileSync(path.join(dir, f)))
        out.push({ host: f.slice(0, -4), source, notAfter: Date.parse(cert.validTo) })
      } catch {
        // not a certificate: skipped
      }
    }
  }
  return out
}

function newWatch(cursor: string, outcomes: readonly string[]): FinishedWatch {
  const w: FinishedWatch = { cursor, counts: {}, buckets: {}, sums: {} }
  for (const o of outcomes) {
    w.counts[o] = 0
    w.buckets[o] = new Array<number>(DEPLOY_BUCKETS.length + 1).fill(0)
    w.sums[o] = 0
  }
  return w
}

function observe(w: FinishedWatch, outcome: string, seconds: number): void {
  const buckets = w.buckets[outcome]
  if (!buckets) return
  let i = 0
  while (i < DEPLOY_BUCKETS.length && seconds > (DEPLOY_BUCKETS[i] as number)) i++
  buckets[i] = (buckets[i] ?? 0) + 1
  w.counts[outcome] = (w.counts[outcome] ?? 0) + 1
  w.sums[outcome] = (w.sums[outcome] ?? 0) + seconds
}
