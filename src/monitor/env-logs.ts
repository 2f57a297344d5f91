import type { LogStore } from '../deploy/index.js'
import { InvalidError, ThrottledError } from '../shared/errors.js'
import type { AccessLine, AccessLogFeed } from './access-log-feed.js'
import { MONITOR_ERRORS } from './errors.js'

/** One line of `palisade logs`: app output (masked when written) or an edge access-log line (masked by the edge). */
export type EnvLogLine =
  | { readonly source: 'app'; readonly at: string | null; readonly text: string }
  | ({ readonly source: 'access' } & AccessLine)

export interface EnvLogQuery {
  readonly source?: string
  readonly status?: string
  readonly pathPrefix?: string
  readonly since?: string
  readonly lines?: number
}

export interface EnvLogFilter {
  readonly app: boolean
  readonly access: boolean
  /** Status class (4 for 4xx) or exact status. */
  readonly status: { readonly cls: number } | { readonly exact: number } | null
  readonly pathPrefix: string | null
  /** Milliseconds since the epoch, or null. */
  readonly since: number | null
  readonly lines: number
}

/** Followers per environment and in all: each holds a connection and a listener (memory and sockets). */
export const MAX_FOLLOWERS_PER_ENV = 20
export const MAX_FOLLOWERS = 500
const MAX_LINES = 5000
const MAX_SINCE_MS = 30 * 86_400_000

function bad(field: string, message: string): never {
  throw new InvalidError(MONITOR_ERRORS.invalidFilter, `${field} ${message}`, {
    details: [{ field, message }],
  })
}

/** Validates `palisade logs` filters (every one bounded; a bad one is a 400 naming the field). */
export function parseEnvLogFilter(q: EnvLogQuery, now: number): EnvLogFilter {
  const source = q.source ?? 'all'
  if (source !== 'all' && source !== 'app' && source !== 'access') bad('source', 'must be all, app or access')
  let status: EnvLogFilter['status'] = null
  if (q.status !== undefined) {
    const m = /^([1-5])(xx|\d\d)$/.exec(q.status)
    if (!m) bad('status', 'must be a status (404) or a class (5xx)')
    status = m[2] === 'xx' ? { cls: Number(m[1]) } : { exact: Number(q.status) }
  }
  let pathPrefix: string | null = null
  if (q.pathPrefix !== undefined) {
    if (!/^\/[\x21-\x7e]{0,511}$/.test(q.pathPrefix))
      bad('pathPrefix', 'must start with / (at most 512 characters)')
    pathPrefix = q.pathPrefix
  }
  let since: number | null = null
  if (q.since !== undefined) {
    const rel = /^(\d{1,6})([smhd])$/.exec(q.since)
    if (rel) {
      const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[rel[2] as 's' | 'm' | 'h' | 'd']
      since = now - Number(rel[1]) * unit
    } else if (
      /^\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:\d\d)$/.test(q.since) &&
      !Number.isNaN(Date.parse(q.since))
    ) {
      since = Date.parse(q.since)
    } else bad('since', 'must be a duration (10m, 2h, 1d) or an ISO 8601 time')
    if (now - since > MAX_SINCE_MS) bad('since', 'reaches back at most 30 days')
  }
  const lines = q.lines ?? 100
  if (!Number.isInteger(lines) || lines < 0 || lines > MAX_LINES) bad('lines', `must be 0 to ${MAX_LINES}`)
  // A status or path filter selects access lines; app output has neither.
  const accessOnlyFilter = status !== null || pathPrefix !== null
  return {
    app: source === 'app' || (source === 'all' && !accessOnlyFilter),
    access: source !== 'app',
    status,
    pathPrefix,
    since,
    lines,
  }
}

export function accessLineMatches(f: EnvLogFilter, line: AccessLine): boolean {
  if (f.status) {
    if ('cls' in f.status ? Math.floor(line.status / 100) !== f.status.cls : line.status !== f.status.exact)
      return false
  }
  if (f.pathPrefix !== null && !line.path.startsWith(f.pathPrefix)) return false
  if (f.since !== null && Date.parse(line.at) < f.since) return false
  return true
}

export interface EnvLogSources {
  readonly logs: LogStore
  /** Live access lines (and an in-process edge's history). */
  readonly access: AccessLogFeed
  /** The kept access lines of an environment, oldest first (from the edge workers, or `access`). */
  readonly accessHistory: (envId: string) => Promise<AccessLine[]>
  /** The log key of the release the environment serves (null: nothing runs). */
  readonly servingLogKey: (envId: string) => string | null
  readonly now: () => number
}

let followers = 0
/** How long after a follow's history a live line may still be one of it (a few edge-worker batches). */
const HISTORY_OVERLAP_MS = 5_000

/** The newest `lines` lines of the current release's output (app output has no timestamps on disk: `since` does not apply). */
function appHistory(sources: EnvLogSources, envId: string, f: EnvLogFilter): EnvLogLine[] {
  const key = sources.servingLogKey(envId)
  if (!f.app || key === null || f.since !== null) return []
  const all = sources.logs.read(key).split('\n')
  if (all[all.length - 1] === '') all.pop()
  return all.slice(Math.max(0, all.length - f.lines)).map((text) => ({ source: 'app', at: null, text }))
}

async function accessHistory(sources: EnvLogSources, envId: string, f: EnvLogFilter): Promise<EnvLogLine[]> {
  if (!f.access) return []
  const lines = (await sources.accessHistory(envId)).filter((l) => accessLineMatches(f, l))
  return lines.slice(Math.max(0, lines.length - f.lines)).map((l) => ({ source: 'access', ...l }))
}

/** An environment's kept log, filtered: the app's output, then the access lines. The caller authorizes first. */
export async function readEnvLog(
  sources: EnvLogSources,
  envId: string,
  f: EnvLogFilter,
): Promise<EnvLogLine[]> {
  const app = appHistory(sources, envId, f)
  return [...app, ...(await accessHistory(sources, envId, f))]
}

/**
 * Follows an environment's log: `onLine` gets the kept lines (as readEnvLog) and then every new one until the
 * returned function is called. The follow starts before the history is asked for, so that no line falls between
 * them; a line in both is shown once. Refused (429) beyond the follower limits. The caller authorizes first.
 */
export async function followEnvLog(
  sources: EnvLogSources,
  envId: string,
  f: EnvLogFilter,
  onLine: (line: EnvLogLine) => void,
): Promise<() => void> {
  if (sources.access.followers(envId) >= MAX_FOLLOWERS_PER_ENV || followers >= MAX_FOLLOWERS)
    throw new ThrottledError(MONITOR_ERRORS.tooManyFollowers, 'too many followers of this log; retry later', {
      retryAfter: 10,
      publicCode: 'too_many_followers',
    })
  followers++
  /** Live lines that arrive before the history is out. */
  let waiting: EnvLogLine[] | null = []
  /**
   * Request ids of the history's access lines, kept for a while after it: an edge worker sends a followed line
   * with its next batch (250 ms), which can come after a history that already held it.
   */
  let shown: Set<string> | null = null
  let shownUntil = 0
  const emit = (line: EnvLogLine): void => {
    if (waiting) {
      if (waiting.length < MAX_LINES) waiting.push(line)
      return
    }
    if (shown && line.source === 'access') {
      if (sources.now() > shownUntil) shown = null
      else if (shown.has(line.requestId)) return
    }
    onLine(line)
  }
  const stops: Array<() => void> = []
  if (f.access)
    stops.push(
      sources.access.subscribe(envId, (l) => accessLineMatches(f, l) && emit({ source: 'access', ...l })),
    )
  // App output follows the serving release; after a switch the new release's key is picked up. Its history is read
  // in the same turn as the subscription: no chunk is missed or shown twice.
  const app = appHistory(sources, envId, f)
  let appKey: string | null = null
  let stopApp: (() => void) | null = null
  let partial = ''
  const attach = (): void => {
    const k = sources.servingLogKey(envId)
    if (k === appKey) return
    stopApp?.()
    appKey = k
    partial = ''
    stopApp =
      k === null
        ? null
        : sources.logs.subscribe(k, (event) => {
            if (!('text' in event)) return
            const parts = (partial + event.text).split('\n')
            partial = (parts.pop() ?? '').slice(-65_536)
            const at = new Date(sources.now()).toISOString()
            for (const text of parts) emit({ source: 'app', at, text })
          })
  }
  let timer: NodeJS.Timeout | null = null
  if (f.app) {
    attach()
    timer = setInterval(attach, 1000)
    timer.unref()
  }
  let stopped = false
  const stop = (): void => {
    if (stopped) return
    stopped = true
    followers--
    if (timer) clearInterval(timer)
    stopApp?.()
    for (const s of stops) s()
  }
  try {
    const access = await accessHistory(sources, envId, f)
    shown = new Set(access.map((l) => (l.source === 'access' ? l.requestId : '')))
    shownUntil = sources.now() + HISTORY_OVERLAP_MS
    for (const l of app) onLine(l)
    for (const l of access) onLine(l)
    const live = waiting
    waiting = null
    for (const l of live) emit(l)
  } catch (err) {
    stop()
    throw err
  }
  return stop
}
