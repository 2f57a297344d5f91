import { fork, type ChildProcess } from 'node:child_process'
import cluster, { type Worker } from 'node:cluster'
import { renameSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { Redis as RedisClient } from 'ioredis'
import { mergeEdgeSnapshots, type EdgeSnapshot } from '../edge-metrics.js'
import { createRedisThrottle } from '../redis-throttle.js'
import { MemoryThrottle } from '../throttle.js'
import type { EdgeRoute, Throttle, ThrottleDecision, WafEvent } from '../types.js'
import {
  isMessage,
  type AccessLines,
  type ControlMessage,
  type EdgeWorkersStatus,
  type SupervisorToControl,
  type SupervisorToWorker,
  type WorkerMessage,
  type WorkerStats,
} from './protocol.js'

export interface SupervisorOptions {
  /** Edge worker processes to keep running (≥ 1). */
  readonly workers: number
  /** The script both children run (the CLI entry) with their arguments. */
  readonly script: string
  readonly controlArgs: readonly string[]
  readonly workerArgs: readonly string[]
  /** Where `palisade doctor` reads the workers' status (root-only file, rewritten every second). */
  readonly statusFile: string
  readonly log: (level: 'info' | 'warn' | 'error', msg: string, fields?: object) => void
  /** With a Redis URL the throttle buckets live there (every host sharing it), else in this process. */
  readonly redisUrl?: string | undefined
}

interface WorkerState {
  readonly worker: Worker
  readonly startedAt: number
  /** The snapshot was sent: from now on the worker counts for "every worker serves version v". */
  synced: boolean
  ready: boolean
  version: number
  stats: WorkerStats | null
}

/** Events kept for a control plane that is down (restarting); beyond it the oldest go, counted. */
const EVENT_BACKLOG_MAX = 200_000
/** A worker serving an older snapshot for longer than this is reported behind (health, doctor). */
const BEHIND_AFTER_MS = 5_000
/** A control plane answering nothing about a routes change within this is not waited for any more. */
const CONTROL_RESTART_MIN_MS = 500
const CONTROL_RESTART_MAX_MS = 10_000
/** A worker that has not sent its kept access lines within this is left out of the answer (busy or dying). */
const HISTORY_WAIT_MS = 2_000

/**
 * `palisade serve`'s first process: it owns the edge's listening sockets (the cluster module, each worker
 * accepting on the shared socket itself), forks the control plane and N edge workers, relays route snapshots
 * from the control plane to the workers and events back, keeps the throttle buckets every worker shares, and
 * restarts whichever child dies. It opens no store and serves no API: there is little here that can fail.
 */
export function runSupervisor(options: SupervisorOptions): void {
  const log = options.log
  const routes = new Map<string, EdgeRoute>()
  const secrets = new Map<string, readonly string[]>()
  /** Pending ACME HTTP-01 answers (a restarted worker gets them in its snapshot). */
  const challenges = new Map<string, string>()
  let version = 0
  let versionAt = Date.now()
  const workers = new Map<number, WorkerState>()
  const pending: { seq: number; version: number }[] = []
  const { edgeThrottle, loginThrottle, closeThrottles } = createThrottles(options.redisUrl, log)
  let control: ChildProcess | null = null
  let controlReady = false
  let controlEverReady = false
  let controlRestartMs = CONTROL_RESTART_MIN_MS
  let stopping = false
  let restarts = 0
  let dropped = 0
  let backlogWaf: WafEvent[] = []
  /** Access-log lines (JSON, one entry each) held while the control plane is away. */
  let backlogAccess: string[] = []
  /** Edge counters that arrived while no control plane listened (counts are never dropped: they are small). */
  let backlogMetrics: EdgeSnapshot | null = null
  /** Environments someone follows (the control plane's set; empty while it is away: its followers went with it). */
  let follow: readonly string[] = []
  /** The control plane's questions for kept access lines: the workers still to answer and what the others said. */
  const histories = new Map<number, { waiting: Set<number>; parts: string[]; timer: NodeJS.Timeout }>()

  // Each worker accepts on the shared listening socket itself (no round-robin through this process).
  cluster.schedulingPolicy = cluster.SCHED_NONE
  cluster.setupPrimary({ exec: options.script, args: [...options.workerArgs], execArgv: process.execArgv })

  const toControl = (message: SupervisorToControl): void => {
    if (control?.connected) control.send(message)
  }
  const toWorker = (state: WorkerState, message: SupervisorToWorker): void => {
    if (state.worker.isConnected()) state.worker.send(message)
  }

  // ------------------------------------------------------------- workers
  const startWorker = (): void => {
    // libuv accepts every pending connection in a loop by default, so on a shared socket the first worker
    // awake takes a whole burst; one accept per wake-up spreads connections over the workers.
    const worker = cluster.fork({ UV_TCP_SINGLE_ACCEPT: '1' })
    workers.set(worker.id, {
      worker,
      startedAt: Date.now(),
      synced: false,
      ready: false,
      version: 0,
      stats: null,
    })
    worker.on('message', (raw: unknown) => onWorkerMessage(worker.id, raw))
  }

  cluster.on('exit', (worker, code, signal) => {
    const state = workers.get(worker.id)
    workers.delete(worker.id)
    checkApplied()
    // A question it had not answered goes on without it (its kept lines died with it).
    for (const question of [...histories.keys()]) historyAnswer(question, worker.id, '')
    if (stopping) {
      if (workers.size === 0) finishStop()
      return
    }
    restarts++
    log('warn', 'edge worker ended; starting a replacement', { workerPid: worker.process.pid, code, signal })
    // A worker that dies at once (a bad build, a port it cannot take) is not restarted in a tight loop.
    const young = state !== undefined && Date.now() - state.startedAt < 2_000
    setTimeout(() => !stopping && startWorker(), young ? 1_000 : 0)
  })

  const onWorkerMessage = (id: number, raw: unknown): void => {
    const state = workers.get(id)
    if (!state || !isMessage<WorkerMessage>(raw)) return
    switch (raw.t) {
      case 'hello':
        if (!controlEverReady) return // the first snapshot is sent to every worker when it exists
        sendSnapshot(state)
        return
      case 'applied':
        state.version = raw.version
        checkApplied()
        return
      case 'listening':
        state.ready = true
        log('info', 'edge worker serving', { workerPid: state.worker.process.pid, version: state.version })
        toControl({ t: 'workers', status: status() })
        return
      case 'throttle': {
        const buckets = raw.kind === 'edge' ? edgeThrottle : loginThrottle
        const { kind, id: question } = raw
        // Redis answers asynchronously; memory at once (no extra turn of the event loop).
        const decisions = raw.takes.map(([key, rps, burst]) => buckets.take(key, rps, burst))
        const reply = (all: readonly ThrottleDecision[]): void =>
          toWorker(state, {
            t: 'throttled',
            kind,
            id: question,
            answers: all.map((d) => [d.allowed, d.retryAfterSeconds] as const),
          })
        const ready: ThrottleDecision[] = []
        for (const d of decisions) if (!(d instanceof Promise)) ready.push(d)
        if (ready.length === decisions.length) reply(ready)
        else void Promise.all(decisions.map(async (d) => d)).then(reply)
        return
      }
      case 'events':
        if (controlReady) toControl({ t: 'events', waf: raw.waf, access: raw.access, metrics: raw.metrics })
        else keep(raw.waf, raw.access, raw.metrics)
        return
      case 'stats':
        state.stats = raw.stats
        return
      case 'access-history':
        historyAnswer(raw.id, id, raw.lines)
        return
    }
  }

  const historyAnswer = (question: number, workerId: number, lines: AccessLines): void => {
    const h = histories.get(question)
    if (!h || !h.waiting.delete(workerId)) return
    if (lines !== '') h.parts.push(lines)
    if (h.waiting.size === 0) finishHistory(question)
  }
  const finishHistory = (question: number): void => {
    const h = histories.get(question)
    if (!h) return
    histories.delete(question)
    clearTimeout(h.timer)
    toControl({ t: 'access-history', id: question, lines: h.parts.join('\n') })
  }
  const askHistory = (question: number, envId: string): void => {
    const asked = [...workers.values()].filter((s) => s.synced && s.worker.isConnected())
    const timer = setTimeout(() => finishHistory(question), HISTORY_WAIT_MS)
    histories.set(question, { waiting: new Set(asked.map((s) => s.worker.id)), parts: [], timer })
    for (const s of asked) toWorker(s, { t: 'access-history', id: question, envId })
    if (asked.length === 0) finishHistory(question)
  }
  const setFollow = (envIds: readonly string[]): void => {
    follow = envIds
    for (const s of workers.values()) if (s.synced) toWorker(s, { t: 'follow', envIds })
  }

  const keep = (waf: readonly WafEvent[], access: AccessLines, metrics: EdgeSnapshot | null): void => {
    if (metrics) backlogMetrics = backlogMetrics ? mergeEdgeSnapshots([backlogMetrics, metrics]) : metrics
    backlogWaf.push(...waf)
    if (access !== '') for (const line of access.split('\n')) backlogAccess.push(line)
    // Access lines go first: the WAF events are what the events API counts.
    const over = backlogWaf.length + backlogAccess.length - EVENT_BACKLOG_MAX
    if (over > 0) {
      const fromAccess = Math.min(over, backlogAccess.length)
      backlogAccess = backlogAccess.slice(fromAccess)
      backlogWaf = backlogWaf.slice(over - fromAccess)
      dropped += over
    }
  }

  const sendSnapshot = (state: WorkerState): void => {
    state.synced = true
    toWorker(state, {
      t: 'snapshot',
      version,
      routes: [...routes.values()],
      secrets: [...secrets.entries()],
      challenges: [...challenges.entries()],
      follow,
    })
  }

  /** Tells the control plane which routes changes every synced worker serves. */
  const checkApplied = (): void => {
    while (pending.length > 0) {
      const first = pending[0] as { seq: number; version: number }
      for (const s of workers.values()) if (s.synced && s.version < first.version) return
      pending.shift()
      toControl({ t: 'applied', seq: first.seq })
    }
  }

  // ------------------------------------------------------------- control plane
  const startControl = (): void => {
    const child = fork(options.script, [...options.controlArgs], {
      execArgv: process.execArgv,
      stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    })
    control = child
    controlReady = false
    child.on('message', (raw: unknown) => onControlMessage(raw))
    child.once('exit', (code, signal) => {
      if (control === child) control = null
      controlReady = false
      for (const h of histories.values()) clearTimeout(h.timer)
      histories.clear()
      if (follow.length > 0) setFollow([])
      if (stopping) {
        if (workers.size === 0) finishStop()
        else for (const s of workers.values()) toWorker(s, { t: 'stop' })
        return
      }
      if (!controlEverReady) {
        // It never started (bad configuration, a port in use): `serve` fails with it.
        log('error', 'the control plane did not start', { code, signal })
        stopping = true
        for (const w of workers.values()) w.worker.process.kill('SIGKILL')
        process.exit(code ?? 1)
      }
      log('error', 'the control plane ended; restarting it (the edge keeps serving)', { code, signal })
      setTimeout(() => !stopping && startControl(), controlRestartMs)
      controlRestartMs = Math.min(CONTROL_RESTART_MAX_MS, controlRestartMs * 2)
    })
  }

  const onControlMessage = (raw: unknown): void => {
    if (!isMessage<ControlMessage>(raw)) return
    if (raw.t === 'follow') return setFollow(raw.envIds)
    if (raw.t === 'access-history') return askHistory(raw.id, raw.envId)
    const removes = raw.full
      ? [...routes.keys()].filter((id) => !raw.upserts.some((r) => r.environmentId === id))
      : [...raw.removes]
    for (const id of removes) {
      routes.delete(id)
      secrets.delete(id)
    }
    for (const r of raw.upserts) routes.set(r.environmentId, r)
    for (const [id, values] of raw.secrets) {
      if (values && values.length > 0) secrets.set(id, values)
      else secrets.delete(id)
    }
    // Older control planes send neither (a rolling restart): nothing to apply then.
    const challengeUpdates = raw.challenges ?? []
    for (const [token, keyAuthorization] of challengeUpdates) {
      if (keyAuthorization === null) challenges.delete(token)
      else challenges.set(token, keyAuthorization)
    }
    version++
    versionAt = Date.now()
    pending.push({ seq: raw.seq, version })
    const first = !controlEverReady
    if (!controlReady) {
      controlReady = true
      controlEverReady = true
      controlRestartMs = CONTROL_RESTART_MIN_MS
      if (backlogWaf.length + backlogAccess.length > 0 || backlogMetrics) {
        toControl({ t: 'events', waf: backlogWaf, access: backlogAccess.join('\n'), metrics: backlogMetrics })
        backlogWaf = []
        backlogAccess = []
        backlogMetrics = null
      }
    }
    if (first) {
      for (let i = 0; i < options.workers; i++) startWorker()
    } else {
      for (const s of workers.values()) {
        if (!s.synced) continue
        toWorker(s, {
          t: 'delta',
          version,
          upserts: raw.upserts,
          removes,
          secrets: raw.secrets,
          challenges: challengeUpdates,
          certificates: raw.certificates ?? [],
        })
      }
    }
    checkApplied()
  }

  // ------------------------------------------------------------- status
  const status = (): EdgeWorkersStatus => {
    const now = Date.now()
    return {
      at: new Date(now).toISOString(),
      supervisorPid: process.pid,
      configured: options.workers,
      version,
      restarts,
      droppedEvents: dropped,
      workers: [...workers.values()].map((s) => {
        const stats = s.stats ?? {
          version: s.version,
          requests: 0,
          rssBytes: 0,
          heapUsedBytes: 0,
          wafMemoryBudget: 0,
          accessLineBytes: 0,
          droppedEvents: 0,
        }
        return {
          ...stats,
          version: s.version,
          id: s.worker.id,
          pid: s.worker.process.pid ?? 0,
          ready: s.ready,
          uptimeMs: now - s.startedAt,
          behind: s.ready && s.version < version && now - versionAt > BEHIND_AFTER_MS,
        }
      }),
    }
  }
  const statusTimer = setInterval(() => {
    const current = status()
    toControl({ t: 'workers', status: current })
    try {
      const tmp = `${options.statusFile}.${process.pid}.tmp`
      writeFileSync(tmp, JSON.stringify(current), { mode: 0o600 })
      renameSync(tmp, options.statusFile)
    } catch {
      // the data directory may not exist yet (the control plane creates it)
    }
  }, 1_000)

  // ------------------------------------------------------------- stop
  let finished = false
  const finishStop = (): void => {
    if (finished || control !== null) return
    finished = true
    clearInterval(statusTimer)
    closeThrottles()
    process.exit(0)
  }
  const stop = (signal: string): void => {
    if (stopping) return
    stopping = true
    log('info', 'stopping the edge workers, then the control plane', { signal })
    // Workers first (no new client requests), then the control plane stops apps and services.
    for (const s of workers.values()) toWorker(s, { t: 'stop' })
    const controlStop = (): void => {
      if (control) control.kill('SIGTERM')
      else finishStop()
    }
    if (workers.size === 0) controlStop()
    else {
      const waitWorkers = setInterval(() => {
        if (workers.size > 0) return
        clearInterval(waitWorkers)
        controlStop()
      }, 50)
      // A worker that does not stop within 10 s is killed.
      setTimeout(() => {
        for (const s of workers.values()) s.worker.process.kill('SIGKILL')
      }, 10_000).unref()
    }
  }
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGTERM', () => stop('SIGTERM'))

  startControl()
}

/**
 * The buckets every worker shares. With Redis: the edge throttle fails open when Redis does not answer (an
 * availability limit), the Basic-auth guess limit fails closed (a security limit); Redis is loaded only then.
 */
function createThrottles(
  redisUrl: string | undefined,
  log: SupervisorOptions['log'],
): { edgeThrottle: Throttle; loginThrottle: Throttle; closeThrottles: () => void } {
  if (!redisUrl)
    return {
      edgeThrottle: new MemoryThrottle(),
      loginThrottle: new MemoryThrottle(),
      closeThrottles: () => {},
    }
  const { Redis } = createRequire(import.meta.url)('ioredis') as {
    Redis: new (url: string, o: object) => RedisClient
  }
  const redis = new Redis(redisUrl, {
    maxRetriesPerRequest: 1,
    connectTimeout: 5_000,
    // A request waits for its bucket: a slow Redis must not hold it longer than this.
    commandTimeout: 1_000,
    enableAutoPipelining: true,
  })
  let lastLogged = 0
  const onError = (error: unknown): void => {
    if (Date.now() - lastLogged < 10_000) return
    lastLogged = Date.now()
    log('warn', 'throttle store (Redis) not answering; deciding without it', {
      error: error instanceof Error ? error.message : String(error),
    })
  }
  redis.on('error', onError)
  return {
    edgeThrottle: createRedisThrottle(redis, { prefix: 'palisade:throttle:edge:', failOpen: true, onError }),
    loginThrottle: createRedisThrottle(redis, {
      prefix: 'palisade:throttle:login:',
      failOpen: false,
      onError,
    }),
    closeThrottles: () => redis.disconnect(),
  }
}
