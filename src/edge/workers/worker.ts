import { encodeAccessLine } from '../access-line.js'
import { AccessLineRing } from '../access-line-ring.js'
import { createEdge, type Edge } from '../edge.js'
import { EdgeMetrics } from '../edge-metrics.js'
import type { EdgeLogger, EdgeOptions, EdgeRoute, WafEvent } from '../types.js'
import { createWafInspector } from '../waf-inspector.js'
import { createWafCache, WAF_MEMORY_BUDGET_UNITS } from '../waf-rules.js'
import { createIpcThrottle } from './ipc-throttle.js'
import {
  isMessage,
  type ChallengesUpdate,
  type SecretsUpdate,
  type SupervisorToWorker,
  type WorkerMessage,
} from './protocol.js'

/** Events leave a worker at least this often (and when this many are waiting): batches, not one per request. */
const EVENT_FLUSH_MS = 250
const EVENT_FLUSH_COUNT = 2_000
/** Bounds what a worker holds when the supervisor cannot keep up (memory exhaustion by a flood). */
const EVENT_BUFFER_MAX = 50_000

export interface EdgeWorkerOptions {
  readonly edge: EdgeOptions
  readonly crsDir: string
  readonly logger: EdgeLogger
  /** The access log's lines (buffered, written off the request path); `logger` when absent. */
  readonly accessLogger?: EdgeLogger
  /** Writes out what `accessLogger` still holds (before the worker exits). */
  readonly flushAccessLog?: () => void
}

/**
 * One edge worker process (started by the supervisor with the cluster module): it waits for the full route
 * snapshot, compiles its WAF, then listens on the supervisor's shared sockets. Routes, certificates'
 * host names and secrets come only from the supervisor; throttle buckets live there too.
 */
export async function runEdgeWorker(options: EdgeWorkerOptions): Promise<void> {
  const send = (message: WorkerMessage): void => {
    if (process.connected) process.send?.(message)
  }
  const logger = options.logger
  const secrets = new Map<string, readonly string[]>()
  const wafs = createWafCache({ crsDir: options.crsDir, logger })
  const throttle = createIpcThrottle('edge', send, true)
  const loginThrottle = createIpcThrottle('login', send, false)
  let waf: WafEvent[] = []
  /** Each environment's newest access lines (encodeAccessLine), sent when the control plane asks. */
  const kept = new AccessLineRing()
  /** Environments someone follows: their new lines go out with each batch, joined into one string. */
  let followed = new Set<string>()
  let access: string[] = []
  let requests = 0
  let version = 0
  let dropped = 0

  /** The edge counters since the last batch: added up here, merged in the control plane (what /metrics shows). */
  const metrics = new EdgeMetrics()
  const flush = (): void => {
    const counted = metrics.drain()
    if (waf.length === 0 && access.length === 0 && counted === null) return
    send({ t: 'events', waf, access: access.join('\n'), metrics: counted })
    waf = []
    access = []
  }
  const push = <T>(list: T[], item: T): void => {
    if (waf.length + access.length >= EVENT_BUFFER_MAX) {
      dropped++
      return
    }
    list.push(item)
    if (waf.length + access.length >= EVENT_FLUSH_COUNT) flush()
  }

  const edge: Edge = await createEdge(options.edge, {
    inspector: createWafInspector((route) => wafs.wafFor(route)),
    logger,
    accessLogger: options.accessLogger ?? logger,
    throttle,
    loginThrottle,
    onAccessLog: (entry) => {
      requests++
      metrics.record(entry)
      // The line for `palisade logs`; a request no environment answered belongs to no tenant's log.
      const envId = entry.environmentId
      if (envId === null) return
      const line = encodeAccessLine(envId, entry, Date.now())
      kept.push(envId, line)
      if (followed.has(envId)) push(access, line)
    },
    onWafEvent: (event) => push(waf, event),
    secretValues: (envId) => secrets.get(envId),
  })

  const applySecrets = (update: SecretsUpdate): void => {
    for (const [envId, values] of update) {
      if (values && values.length > 0) secrets.set(envId, values)
      else secrets.delete(envId)
    }
  }
  const applyChallenges = (update: ChallengesUpdate): void => {
    for (const [token, keyAuthorization] of update) {
      try {
        if (keyAuthorization === null) edge.challenges.delete(token)
        else edge.challenges.set(token, keyAuthorization)
      } catch (err) {
        logger.error({ err }, 'the edge worker refused an ACME challenge')
      }
    }
  }
  const upsert = (route: EdgeRoute): void => {
    try {
      edge.routes.upsert(route)
    } catch (err) {
      logger.error({ err, environmentId: route.environmentId }, 'the edge worker refused a route')
    }
  }

  let snapshotReady: () => void = () => undefined
  const gotSnapshot = new Promise<void>((resolve) => (snapshotReady = resolve))
  process.on('message', (raw: unknown) => {
    if (!isMessage<SupervisorToWorker>(raw)) return
    switch (raw.t) {
      case 'snapshot': {
        const keep = new Set(raw.routes.map((r) => r.environmentId))
        for (const r of edge.routes.list()) {
          if (keep.has(r.environmentId)) continue
          edge.routes.remove(r.environmentId)
          kept.forget(r.environmentId)
        }
        secrets.clear()
        applySecrets(raw.secrets)
        applyChallenges(raw.challenges)
        for (const r of raw.routes) upsert(r)
        followed = new Set(raw.follow ?? [])
        version = raw.version
        send({ t: 'applied', version })
        snapshotReady()
        return
      }
      case 'delta':
        applySecrets(raw.secrets)
        applyChallenges(raw.challenges)
        for (const host of raw.certificates) edge.forgetCertificate(host)
        for (const id of raw.removes) {
          edge.routes.remove(id)
          kept.forget(id)
        }
        for (const r of raw.upserts) upsert(r)
        version = raw.version
        send({ t: 'applied', version })
        return
      case 'throttled':
        ;(raw.kind === 'edge' ? throttle : loginThrottle).answer(raw.id, raw.answers)
        return
      case 'follow':
        followed = new Set(raw.envIds)
        return
      case 'access-history':
        send({ t: 'access-history', id: raw.id, lines: kept.recent(raw.envId).join('\n') })
        return
      case 'stop':
        void stop()
        return
    }
  })
  // Whatever way the worker ends, the access lines it still holds are written (synchronously, at exit).
  process.on('exit', () => options.flushAccessLog?.())
  // The supervisor is gone (killed): a new `palisade serve` starts its own workers on these ports.
  process.on('disconnect', () => process.exit(0))
  // A signal to the whole process group (Ctrl-C, a service manager): the same clean stop as the supervisor's.
  process.on('SIGINT', () => void stop())
  process.on('SIGTERM', () => void stop())

  let stopping = false
  const stop = async (): Promise<void> => {
    if (stopping) return
    stopping = true
    await edge.close().catch(() => undefined)
    flush()
    process.exit(0)
  }

  send({ t: 'hello' })
  await gotSnapshot
  // The default WAF compiled before the first request: the first visitor does not pay for it.
  const rules = wafs.rules
  const address = await edge.listen()
  send({ t: 'listening', http: address.http.port, https: address.https.port })
  logger.info({ pid: process.pid, version, wafRules: rules }, 'edge worker listening')

  const flushTimer = setInterval(flush, EVENT_FLUSH_MS)
  flushTimer.unref()
  const statsTimer = setInterval(() => {
    const mem = process.memoryUsage()
    send({
      t: 'stats',
      stats: {
        version,
        requests,
        rssBytes: mem.rss,
        heapUsedBytes: mem.heapUsed,
        wafMemoryBudget: WAF_MEMORY_BUDGET_UNITS,
        accessLineBytes: kept.bytes(),
        droppedEvents: dropped,
      },
    })
  }, 1_000)
  statsTimer.unref()
}
