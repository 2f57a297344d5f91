import type { RouteTable } from '../route-table.js'
import type { EdgeSnapshot } from '../edge-metrics.js'
import type { EdgeLogger, EdgeRoute, WafEvent } from '../types.js'
import {
  isMessage,
  type AccessLines,
  type ControlMessage,
  type EdgeWorkersStatus,
  type SecretsUpdate,
  type SupervisorToControl,
} from './protocol.js'

/** A switch waits at most this long for every worker to serve it (a stuck worker is reported, not awaited). */
const APPLIED_TIMEOUT_MS = 15_000
/** Secret values are compared this often (a variable change refreshes them without a route change). */
const SECRETS_CHECK_MS = 1_000
/** The supervisor answers a history question within ~2 s (workers that do not are left out); this is the backstop. */
const HISTORY_TIMEOUT_MS = 5_000

export interface ControlLinkDeps {
  /** The control plane's own route table (what the deployer publishes into). */
  readonly routes: RouteTable
  readonly secretValues: (environmentId: string) => readonly string[] | undefined
  /** A worker's batch: WAF events, access lines for `palisade logs` (kept as they are), its edge counters. */
  readonly onEvents: (waf: readonly WafEvent[], access: AccessLines, metrics: EdgeSnapshot | null) => void
  readonly logger: EdgeLogger
  /** The IPC channel to the supervisor (process.send in the control plane). */
  readonly send: (message: ControlMessage) => void
  /** Subscribes to the supervisor's messages; answers the unsubscribe function. */
  readonly subscribe: (listener: (message: unknown) => void) => () => void
}

/** The control plane's side of the edge workers: programs them and takes their events and status. */
export interface ControlLink {
  /**
   * Sends the whole route table (after the start's reconcile: a restarted control plane never programs the
   * workers with half-known targets), then every change as a delta.
   */
  start(): void
  /** Resolves once every edge worker serves every route change made so far (deploy switches wait on it). */
  applied(): Promise<void>
  /** Resolves once every configured worker accepts connections (or after `timeoutMs`: answers false). */
  ready(timeoutMs: number): Promise<boolean>
  /**
   * Publishes (or withdraws, null) an ACME HTTP-01 answer on every edge worker; resolves once every worker
   * serves it (the CA is asked to validate only then).
   */
  setChallenge(token: string, keyAuthorization: string | null): Promise<void>
  /** Makes every worker drop its cached TLS context of `host` (a new certificate file); resolves once applied. */
  certificateChanged(host: string): Promise<void>
  /** Every edge worker's kept access lines of an environment ('' when none answer in time). */
  accessHistory(envId: string): Promise<AccessLines>
  /** The environments whose new access lines the workers send (`palisade logs --follow`). */
  follow(envIds: readonly string[]): void
  /** The workers' last reported status, or undefined before the first report. */
  status(): EdgeWorkersStatus | undefined
  close(): void
}

export function createControlLink(deps: ControlLinkDeps): ControlLink {
  const sent = new Map<string, EdgeRoute>()
  const sentSecrets = new Map<string, readonly string[] | undefined>()
  let started = false
  let seq = 0
  let appliedSeq = 0
  const waiters: { seq: number; resolve: () => void }[] = []
  let lastStatus: EdgeWorkersStatus | undefined
  /** Challenge answers published now (a full sync re-sends them) and changes not sent yet. */
  const challenges = new Map<string, string>()
  let challengeChanges = new Map<string, string | null>()
  let certificateChanges = new Set<string>()
  let timer: NodeJS.Timeout | undefined
  const readyWaiters = new Set<(ok: boolean) => void>()
  let followed: readonly string[] = []
  let historySeq = 0
  const historyWaiters = new Map<number, (lines: AccessLines) => void>()
  const allReady = (st: EdgeWorkersStatus | undefined): boolean =>
    st !== undefined && st.workers.filter((w) => w.ready).length >= st.configured

  const secretsDelta = (envIds: Iterable<string>): [string, readonly string[] | null][] => {
    const out: [string, readonly string[] | null][] = []
    for (const id of envIds) {
      const values = deps.secretValues(id)
      if (sentSecrets.has(id) && sentSecrets.get(id) === values) continue
      sentSecrets.set(id, values)
      out.push([id, values ?? null])
    }
    return out
  }

  const send = (message: ControlMessage): void => {
    try {
      deps.send(message)
    } catch (err) {
      deps.logger.error({ err }, 'programming the edge workers failed')
    }
  }

  /** Sends what changed since the last message; returns the sequence number covering it. */
  const sync = (full: boolean): number => {
    if (!started) return seq
    const current = deps.routes.list()
    const upserts: EdgeRoute[] = []
    const seen = new Set<string>()
    for (const r of current) {
      seen.add(r.environmentId)
      if (full || sent.get(r.environmentId) !== r) upserts.push(r)
    }
    const removes = [...sent.keys()].filter((id) => !seen.has(id))
    if (full) sentSecrets.clear()
    const secrets: SecretsUpdate = secretsDelta(seen)
    const challengeUpdates: [string, string | null][] = full
      ? [...challenges.entries()]
      : [...challengeChanges.entries()]
    const certificates = [...certificateChanges]
    challengeChanges = new Map()
    certificateChanges = new Set()
    if (
      !full &&
      upserts.length === 0 &&
      removes.length === 0 &&
      secrets.length === 0 &&
      challengeUpdates.length === 0 &&
      certificates.length === 0
    )
      return seq
    for (const id of removes) {
      sent.delete(id)
      sentSecrets.delete(id)
    }
    for (const r of upserts) sent.set(r.environmentId, r)
    seq++
    send({ t: 'routes', seq, full, upserts, removes, secrets, challenges: challengeUpdates, certificates })
    return seq
  }

  const unsubscribe = deps.subscribe((raw) => {
    if (!isMessage<SupervisorToControl>(raw)) return
    if (raw.t === 'applied') {
      appliedSeq = Math.max(appliedSeq, raw.seq)
      for (let i = waiters.length - 1; i >= 0; i--) {
        const w = waiters[i] as { seq: number; resolve: () => void }
        if (w.seq <= appliedSeq) {
          waiters.splice(i, 1)
          w.resolve()
        }
      }
    } else if (raw.t === 'events') {
      deps.onEvents(raw.waf, raw.access, raw.metrics)
    } else if (raw.t === 'access-history') {
      historyWaiters.get(raw.id)?.(raw.lines)
    } else if (raw.t === 'workers') {
      lastStatus = raw.status
      if (allReady(lastStatus)) for (const resolve of readyWaiters) resolve(true)
    }
  })
  const stopListening = deps.routes.onChange(() => {
    // Batched per turn: a start publishing many routes sends one message, not one per route.
    if (started) queueMicrotask(() => sync(false))
  })

  return {
    start() {
      if (started) return
      started = true
      sync(true)
      if (followed.length > 0) send({ t: 'follow', envIds: followed })
      timer = setInterval(() => sync(false), SECRETS_CHECK_MS)
      timer.unref()
    },
    async applied() {
      const target = sync(false)
      if (!started) return
      // Every configured worker must be serving (a worker still compiling its WAF serves nothing yet).
      if (!allReady(lastStatus) && !(await this.ready(APPLIED_TIMEOUT_MS * 8)))
        deps.logger.warn({ seq: target }, 'not every edge worker is serving; see palisade doctor')
      if (target <= appliedSeq) return
      return new Promise((resolve) => {
        const t = setTimeout(() => {
          const i = waiters.findIndex((w) => w.resolve === done)
          if (i >= 0) waiters.splice(i, 1)
          deps.logger.warn(
            { seq: target },
            'an edge worker did not confirm a route change in time; see palisade doctor',
          )
          resolve()
        }, APPLIED_TIMEOUT_MS)
        t.unref()
        const done = (): void => {
          clearTimeout(t)
          resolve()
        }
        waiters.push({ seq: target, resolve: done })
      })
    },
    ready(timeoutMs) {
      if (allReady(lastStatus)) return Promise.resolve(true)
      return new Promise((resolve) => {
        const done = (ok: boolean): void => {
          clearTimeout(t)
          readyWaiters.delete(done)
          resolve(ok)
        }
        const t = setTimeout(() => done(false), timeoutMs)
        t.unref()
        readyWaiters.add(done)
      })
    },
    setChallenge(token, keyAuthorization) {
      if (keyAuthorization === null) challenges.delete(token)
      else challenges.set(token, keyAuthorization)
      challengeChanges.set(token, keyAuthorization)
      return this.applied()
    },
    certificateChanged(host) {
      certificateChanges.add(host)
      return this.applied()
    },
    accessHistory(envId) {
      if (!started) return Promise.resolve('')
      const id = ++historySeq
      return new Promise((resolve) => {
        const done = (lines: AccessLines): void => {
          clearTimeout(t)
          historyWaiters.delete(id)
          resolve(lines)
        }
        const t = setTimeout(() => done(''), HISTORY_TIMEOUT_MS)
        t.unref()
        historyWaiters.set(id, done)
        send({ t: 'access-history', id, envId })
      })
    },
    follow(envIds) {
      followed = [...envIds]
      if (started) send({ t: 'follow', envIds: followed })
    },
    status: () => lastStatus,
    close() {
      if (timer) clearInterval(timer)
      stopListening()
      unsubscribe()
      for (const w of waiters.splice(0)) w.resolve()
      for (const resolve of readyWaiters) resolve(false)
      for (const resolve of [...historyWaiters.values()]) resolve('')
    },
  }
}
