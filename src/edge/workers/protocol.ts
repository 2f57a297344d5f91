import type { EdgeSnapshot } from '../edge-metrics.js'
import type { EdgeRoute, WafEvent } from '../types.js'

/**
 * Messages between `palisade serve`'s three kinds of process (docs/notes/edgew.md):
 * the supervisor (owns the listening sockets, relays, restarts), the control plane (API, deployer) and the
 * edge workers (all client traffic). Plain JSON over Node's IPC channel; every message has a `t` tag.
 */

/** An environment's secret values (masked in access-log lines and WAF event paths), null = none. */
export type SecretsUpdate = readonly (readonly [environmentId: string, values: readonly string[] | null])[]

/**
 * Access-log lines for `palisade logs`, in `encodeAccessLine`'s compact form (src/edge/access-line.ts), `\n`
 * between them ('' for none); only requests of a routed environment. Each worker keeps its environments' newest
 * lines; they travel only when asked for (history) or while someone follows the environment. One string rather
 * than an array of objects: Node's IPC channel serializes and parses whatever passes, and the supervisor relays it
 * untouched.
 */
export type AccessLines = string

/**
 * ACME HTTP-01 answers to publish (token → key authorization) or withdraw (null). Every worker answers them on
 * plain HTTP before the control plane asks the CA to validate (it waits for the workers' `applied`).
 */
export type ChallengesUpdate = readonly (readonly [token: string, keyAuthorization: string | null])[]

/** One throttle question: key, requests per second, burst. */
export type ThrottleTake = readonly [key: string, requestsPerSecond: number, burst: number]
/** Its answer: allowed, whole seconds until a token is available. */
export type ThrottleAnswer = readonly [allowed: boolean, retryAfterSeconds: number]

/** Control plane → supervisor. */
export type ControlMessage =
  /** Route changes; `full` replaces the whole table (environments not named are removed). */
  | {
      readonly t: 'routes'
      readonly seq: number
      readonly full: boolean
      readonly upserts: readonly EdgeRoute[]
      readonly removes: readonly string[]
      readonly secrets: SecretsUpdate
      readonly challenges: ChallengesUpdate
      /** Hosts whose certificate file changed (an ACME issuance): workers drop their cached TLS context. */
      readonly certificates: readonly string[]
    }
  /** The environments someone follows with `palisade logs --follow` (the whole set each time). */
  | { readonly t: 'follow'; readonly envIds: readonly string[] }
  /** Every worker's kept access lines of an environment, answered by `access-history` with the same id. */
  | { readonly t: 'access-history'; readonly id: number; readonly envId: string }

/** Supervisor → control plane. */
export type SupervisorToControl =
  /** Every ready worker serves the routes message `seq` (or a later one). */
  | { readonly t: 'applied'; readonly seq: number }
  | {
      readonly t: 'events'
      readonly waf: readonly WafEvent[]
      readonly access: AccessLines
      /** The edge counters since the worker's previous batch (EdgeMetrics.drain), when any moved. */
      readonly metrics: EdgeSnapshot | null
    }
  | { readonly t: 'workers'; readonly status: EdgeWorkersStatus }
  /** The ready workers' kept lines (each worker's in order; a worker that did not answer in time is left out). */
  | { readonly t: 'access-history'; readonly id: number; readonly lines: AccessLines }

/** Supervisor → worker. */
export type SupervisorToWorker =
  | {
      readonly t: 'snapshot'
      readonly version: number
      readonly routes: readonly EdgeRoute[]
      readonly secrets: SecretsUpdate
      readonly challenges: ChallengesUpdate
      readonly follow: readonly string[]
    }
  | {
      readonly t: 'delta'
      readonly version: number
      readonly upserts: readonly EdgeRoute[]
      readonly removes: readonly string[]
      readonly secrets: SecretsUpdate
      readonly challenges: ChallengesUpdate
      readonly certificates: readonly string[]
    }
  | {
      readonly t: 'throttled'
      readonly kind: 'edge' | 'login'
      readonly id: number
      readonly answers: readonly ThrottleAnswer[]
    }
  | { readonly t: 'follow'; readonly envIds: readonly string[] }
  | { readonly t: 'access-history'; readonly id: number; readonly envId: string }
  | { readonly t: 'stop' }

/** Worker → supervisor. */
export type WorkerMessage =
  /** Listening for messages: the supervisor answers with the full snapshot. */
  | { readonly t: 'hello' }
  | { readonly t: 'applied'; readonly version: number }
  | { readonly t: 'listening'; readonly http: number; readonly https: number }
  | {
      readonly t: 'throttle'
      readonly id: number
      readonly kind: 'edge' | 'login'
      readonly takes: readonly ThrottleTake[]
    }
  | {
      readonly t: 'events'
      readonly waf: readonly WafEvent[]
      readonly access: AccessLines
      /** The edge counters since the worker's previous batch (EdgeMetrics.drain), when any moved. */
      readonly metrics: EdgeSnapshot | null
    }
  | { readonly t: 'stats'; readonly stats: WorkerStats }
  | { readonly t: 'access-history'; readonly id: number; readonly lines: AccessLines }

/** What a worker says about itself every second. */
export interface WorkerStats {
  readonly version: number
  readonly requests: number
  readonly rssBytes: number
  readonly heapUsedBytes: number
  /** The budget of what this worker's compiled WAFs may remember, in memory units (waf-rules.ts). */
  readonly wafMemoryBudget: number
  /** Bytes this worker holds of environments' access lines for `palisade logs` (access-line-ring.ts). */
  readonly accessLineBytes: number
  /** Events this worker dropped because its buffer was full. */
  readonly droppedEvents: number
}

export interface EdgeWorkerStatus extends WorkerStats {
  readonly id: number
  readonly pid: number
  readonly ready: boolean
  /** Milliseconds since the worker started. */
  readonly uptimeMs: number
  /** Serves an older snapshot than the newest for more than a few seconds. */
  readonly behind: boolean
}

/** The edge's workers as the supervisor sees them (health, doctor). */
export interface EdgeWorkersStatus {
  readonly at: string
  readonly supervisorPid: number
  /** Workers `palisade serve` keeps running. */
  readonly configured: number
  /** The newest route snapshot version. */
  readonly version: number
  readonly workers: readonly EdgeWorkerStatus[]
  /** Worker restarts since the supervisor started. */
  readonly restarts: number
  /** Events dropped while the control plane was away and the buffer was full. */
  readonly droppedEvents: number
}

export function isMessage<T extends { t: string }>(value: unknown): value is T {
  return typeof value === 'object' && value !== null && typeof (value as { t?: unknown }).t === 'string'
}
