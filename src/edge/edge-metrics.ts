import type { AccessLogEntry } from './types.js'

/**
 * The edge's request counters, kept in plain arrays on the hot path (no label maps, no prom-client call per
 * request): the monitor's `collect()` reads a snapshot. Every label set is fixed or bounded, so that a flood of
 * random paths, hosts or client addresses cannot add a series (cardinality attack on the metrics store):
 * - environment: an id from the route table (a request for no route counts as `none`), at most `maxEnvironments`,
 *   the rest as `other`;
 * - method: one of METHOD_CLASSES; status: one of STATUS_CLASSES;
 * - WAF rule ids: digits only, at most `maxRules` distinct ones, the rest as `other`.
 *
 * With several edge worker processes, each keeps its own counters and sends `snapshot()`; the parent adds them
 * with `mergeEdgeSnapshots()` (counters only grow, so a sum is the whole).
 */

export const METHOD_CLASSES = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'other'] as const
export const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const
/** Seconds; the edge's own answers take well under 1 ms, proxied ones what the app takes. */
export const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const
export const UPSTREAM_FAILURES = ['error', 'timeout', 'aborted'] as const
export const THROTTLE_KINDS = ['rate', 'login'] as const
/** What the WAF did: blocked, let through with matches (detection), let through clean. */
export const WAF_ACTIONS = ['block', 'detect', 'pass'] as const
export const NO_ENVIRONMENT = 'none'
export const OTHER = 'other'

const METHOD_INDEX: Readonly<Record<string, number>> = Object.freeze(
  Object.fromEntries(METHOD_CLASSES.map((m, i) => [m, i])),
)
const OTHER_METHOD = METHOD_CLASSES.length - 1
const RULE_ID_RE = /^\d{1,9}$/
/** Outcomes under which the request reached the WAF and was let through (the target answered or failed). */
const PASSED = new Set([
  null,
  'upstream_error',
  'upstream_timeout',
  'upstream_aborted',
  'static_not_found',
  'websocket',
])

/** One environment's counters: flat arrays indexed by the fixed label sets above. */
export interface EnvCounters {
  /** [method * STATUS_CLASSES.length + status] */
  requests: number[]
  /** Non-cumulative bucket counts, LATENCY_BUCKETS.length + 1 (the last is +Inf). */
  buckets: number[]
  durationSum: number
  upstream: number[]
  throttled: number[]
  waf: number[]
}

export interface EdgeSnapshot {
  readonly environments: Readonly<Record<string, EnvCounters>>
  readonly blocksByRule: Readonly<Record<string, number>>
}

export interface EdgeMetricsOptions {
  /** Environments with series of their own; more (a very large install) share `other`. */
  readonly maxEnvironments?: number
  /** Distinct WAF rule ids with series of their own (CRS has a few hundred). */
  readonly maxRules?: number
}

function emptyCounters(): EnvCounters {
  return {
    requests: new Array<number>(METHOD_CLASSES.length * STATUS_CLASSES.length).fill(0),
    buckets: new Array<number>(LATENCY_BUCKETS.length + 1).fill(0),
    durationSum: 0,
    upstream: new Array<number>(UPSTREAM_FAILURES.length).fill(0),
    throttled: new Array<number>(THROTTLE_KINDS.length).fill(0),
    waf: new Array<number>(WAF_ACTIONS.length).fill(0),
  }
}

function statusIndex(status: number): number {
  // 0 (the client went away before an answer) counts with the server errors: nobody got an answer.
  const c = Math.floor(status / 100)
  return c >= 1 && c <= 5 ? c - 1 : 4
}

function bucketIndex(seconds: number): number {
  let i = 0
  while (i < LATENCY_BUCKETS.length && seconds > (LATENCY_BUCKETS[i] as number)) i++
  return i
}

export class EdgeMetrics {
  readonly #envs = new Map<string, EnvCounters>()
  readonly #rules = new Map<string, number>()
  readonly #maxEnvs: number
  readonly #maxRules: number

  constructor(options: EdgeMetricsOptions = {}) {
    this.#maxEnvs = options.maxEnvironments ?? 10_000
    this.#maxRules = options.maxRules ?? 2_000
  }

  #slot(environmentId: string | null): EnvCounters {
    const key = environmentId ?? NO_ENVIRONMENT
    let c = this.#envs.get(key)
    if (c !== undefined) return c
    const name = this.#envs.size >= this.#maxEnvs ? OTHER : key
    c = this.#envs.get(name)
    if (c === undefined) this.#envs.set(name, (c = emptyCounters()))
    return c
  }

  /** Counts one finished request from its access-log entry (the edge's `onAccessLog`). */
  record(entry: AccessLogEntry): void {
    const c = this.#slot(entry.environmentId)
    const m = METHOD_INDEX[entry.method] ?? OTHER_METHOD
    ;(c.requests[m * STATUS_CLASSES.length + statusIndex(entry.status)] as number)++
    const seconds = entry.durationMs / 1000
    ;(c.buckets[bucketIndex(seconds)] as number)++
    c.durationSum += seconds
    const outcome = entry.outcome
    switch (outcome) {
      case 'upstream_error':
        ;(c.upstream[0] as number)++
        break
      case 'upstream_timeout':
        ;(c.upstream[1] as number)++
        break
      case 'upstream_aborted':
        ;(c.upstream[2] as number)++
        break
      case 'throttled':
        ;(c.throttled[0] as number)++
        return
      case 'login_throttled':
        ;(c.throttled[1] as number)++
        return
      case 'waf_block':
        ;(c.waf[0] as number)++
        this.#countRules(entry.ruleIds)
        return
    }
    if (entry.environmentId !== null && PASSED.has(outcome)) {
      if (entry.ruleIds !== undefined && entry.ruleIds.length > 0) (c.waf[1] as number)++
      else (c.waf[2] as number)++
    }
  }

  #countRules(ids: readonly string[] | undefined): void {
    for (const id of ids ?? []) this.#countRule(id, 1)
  }

  #countRule(id: string, n: number): void {
    let key = RULE_ID_RE.test(id) ? id : OTHER
    if (!this.#rules.has(key) && this.#rules.size >= this.#maxRules) key = OTHER
    this.#rules.set(key, (this.#rules.get(key) ?? 0) + n)
  }

  /** A copy of every counter (what a worker process sends to be merged). */
  snapshot(): EdgeSnapshot {
    const environments: Record<string, EnvCounters> = {}
    for (const [k, c] of this.#envs)
      environments[k] = {
        requests: [...c.requests],
        buckets: [...c.buckets],
        durationSum: c.durationSum,
        upstream: [...c.upstream],
        throttled: [...c.throttled],
        waf: [...c.waf],
      }
    return { environments, blocksByRule: Object.fromEntries(this.#rules) }
  }

  /** What was counted since the last drain, and the counters back to zero; null when nothing was (a worker's batch). */
  drain(): EdgeSnapshot | null {
    if (this.#envs.size === 0 && this.#rules.size === 0) return null
    const delta = this.snapshot()
    this.#envs.clear()
    this.#rules.clear()
    return delta
  }

  /** Adds a worker's drained counters (the control plane's totals, what `/metrics` reads). */
  add(delta: EdgeSnapshot): void {
    for (const [k, c] of Object.entries(delta.environments)) {
      const into = this.#slot(k === NO_ENVIRONMENT ? null : k)
      addCounters(into, c)
    }
    for (const [rule, n] of Object.entries(delta.blocksByRule)) this.#countRule(rule, n)
  }
}

function addInto(into: number[], from: readonly number[]): void {
  for (let i = 0; i < into.length; i++) into[i] = (into[i] as number) + (from[i] ?? 0)
}

/** One environment's counters added into another's, label by label. */
function addCounters(into: EnvCounters, from: EnvCounters): void {
  addInto(into.requests, from.requests)
  addInto(into.buckets, from.buckets)
  into.durationSum += from.durationSum
  addInto(into.upstream, from.upstream)
  addInto(into.throttled, from.throttled)
  addInto(into.waf, from.waf)
}

/** Adds several processes' snapshots into one (label by label). */
export function mergeEdgeSnapshots(snapshots: readonly EdgeSnapshot[]): EdgeSnapshot {
  const environments: Record<string, EnvCounters> = {}
  const blocksByRule: Record<string, number> = {}
  for (const s of snapshots) {
    for (const [k, c] of Object.entries(s.environments)) {
      const into = (environments[k] ??= emptyCounters())
      addCounters(into, c)
    }
    for (const [rule, n] of Object.entries(s.blocksByRule)) blocksByRule[rule] = (blocksByRule[rule] ?? 0) + n
  }
  return { environments, blocksByRule }
}
