import {
  accessLineEnvironment,
  decodeAccessLine,
  type AccessLine,
  type AccessLogEntry,
} from '../edge/index.js'
import { KeyedRing } from '../shared/keyed-ring.js'

export type { AccessLine }

type Listener = (line: AccessLine) => void

/** The newest lines of each environment an in-process edge keeps for `palisade logs` (workers: access-line-ring.ts). */
const ACCESS_LINES_KEPT = 1000

export function accessLineOf(entry: AccessLogEntry, at: number): AccessLine {
  return {
    at: new Date(at).toISOString(),
    requestId: entry.requestId,
    clientIp: entry.clientIp,
    method: entry.method,
    host: entry.host,
    path: entry.path,
    status: entry.status,
    durationMs: Math.round(entry.durationMs * 1000) / 1000,
    bytesOut: entry.bytesOut,
    outcome: entry.outcome,
    userAgent: entry.userAgent,
  }
}

/**
 * The edge's access log per environment, for `palisade logs`: live followers, and, for an edge in this process,
 * the newest lines of each environment (a ring: memory stays bounded whatever the traffic). Edge workers keep
 * their own rings and send lines only for environments someone follows (`onFollowedChange` tells them which).
 * Lines of requests that matched no environment are not kept (they belong to no tenant).
 */
export class AccessLogFeed {
  /** In-process entries, kept as they are: the line is built only when read. */
  readonly #ring = new KeyedRing<{ readonly entry: AccessLogEntry; readonly at: number }>(ACCESS_LINES_KEPT)
  readonly #listeners = new Map<string, Set<Listener>>()
  #onFollowedChange: ((envIds: readonly string[]) => void) | null = null

  /** Hot path of an in-process edge (every request). */
  push(entry: AccessLogEntry, now: number): void {
    const envId = entry.environmentId
    if (envId === null) return
    this.#ring.push(envId, { entry, at: now })
    const listeners = this.#listeners.get(envId)
    if (listeners) {
      const line = accessLineOf(entry, now)
      for (const l of listeners) l(line)
    }
  }

  /** A batch of edge workers' lines of followed environments (encodeAccessLine, `\n` between them). */
  deliverLines(lines: string): void {
    if (lines === '' || this.#listeners.size === 0) return
    let start = 0
    for (;;) {
      const end = lines.indexOf('\n', start)
      const text = end === -1 ? lines.slice(start) : lines.slice(start, end)
      const listeners = this.#listeners.get(accessLineEnvironment(text))
      const line = listeners ? decodeAccessLine(text) : null
      if (listeners && line) for (const l of listeners) l(line)
      if (end === -1) return
      start = end + 1
    }
  }

  /** The in-process edge's kept lines of an environment, oldest first. */
  recent(envId: string): AccessLine[] {
    return this.#ring.recent(envId).map(({ entry, at }) => accessLineOf(entry, at))
  }

  followers(envId: string): number {
    return this.#listeners.get(envId)?.size ?? 0
  }

  /** Environments with at least one follower. */
  followed(): string[] {
    return [...this.#listeners.keys()]
  }

  /** Called with the whole followed set whenever an environment gains its first or loses its last follower. */
  onFollowedChange(listener: (envIds: readonly string[]) => void): void {
    this.#onFollowedChange = listener
  }

  subscribe(envId: string, listener: Listener): () => void {
    let set = this.#listeners.get(envId)
    if (!set) {
      this.#listeners.set(envId, (set = new Set()))
      this.#onFollowedChange?.(this.followed())
    }
    set.add(listener)
    return () => {
      set.delete(listener)
      if (set.size === 0 && this.#listeners.get(envId) === set) {
        this.#listeners.delete(envId)
        this.#onFollowedChange?.(this.followed())
      }
    }
  }
}
