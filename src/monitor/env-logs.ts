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
  readonly access: AccessLogFeed
  /** The log key of the release the environment serves (null: nothing runs). */
  readonly servingLogKey: (envId: string) => string | null
  readonly now: () => number
}

export interface EnvLogSession {
  /** What is kept already (app output has no timestamps on disk: `since` does not apply to it). */
  readonly history: EnvLogLine[]
  /** Live lines until the returned function is called. */
  follow(onLine: (line: EnvLogLine) => void): () => void
}

let followers = 0

/**
 * Opens an environment's log for reading: the newest `lines` lines of the current release's output and of the
 * access log (filtered), then, when followed, every new line. The caller authorizes first.
 */
export function openEnvLog(sources: EnvLogSources, envId: string, f: EnvLogFilter): EnvLogSession {
  const history: EnvLogLine[] = []
  const key = sources.servingLogKey(envId)
  if (f.app && key !== null && f.since === null) {
    const text = sources.logs.read(key)
    const all = text.split('\n')
    if (all[all.length - 1] === '') all.pop()
    for (const t of all.slice(Math.max(0, all.length - f.lines)))
      history.push({ source: 'app', at: null, text: t })
  }
  if (f.access) {
    const lines = sources.access.recent(envId).filter((l) => accessLineMatches(f, l))
    for (const l of lines.slice(Math.max(0, lines.length - f.lines))) history.push({ source: 'access', ...l })
  }
  return {
    history,
    follow(onLine) {
      if (sources.access.followers(envId) >= MAX_FOLLOWERS_PER_ENV || followers >= MAX_FOLLOWERS)
        throw new ThrottledError(
          MONITOR_ERRORS.tooManyFollowers,
          'too many followers of this log; retry later',
          {
            retryAfter: 10,
            publicCode: 'too_many_followers',
          },
        )
      followers++
      const stops: Array<() => void> = []
      if (f.access)
        stops.push(
          sources.access.subscribe(
            envId,
            (l) => accessLineMatches(f, l) && onLine({ source: 'access', ...l }),
          ),
        )
      // App output follows the serving release; after a switch the new release's key is picked up.
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
                for (const text of parts) onLine({ source: 'app', at, text })
              })
      }
      let timer: NodeJS.Timeout | null = null
      if (f.app) {
        attach()
        timer = setInterval(attach, 1000)
        timer.unref()
      }
      let stopped = false
      return () => {
        if (stopped) return
        stopped = true
        followers--
        if (timer) clearInterval(timer)
        stopApp?.()
        for (const s of stops) s()
      }
    },
  }
}
