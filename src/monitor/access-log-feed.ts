import type { AccessLogEntry } from '../edge/index.js'

/** One access-log line as `palisade logs` shows it (already masked by the edge). */
export interface AccessLine {
  readonly at: string
  readonly requestId: string
  readonly clientIp: string
  readonly method: string
  readonly host: string
  readonly path: string
  readonly status: number
  readonly durationMs: number
  readonly bytesOut: number
  readonly outcome: string | null
  readonly userAgent: string | null
}

type Listener = (line: AccessLine) => void

interface Kept {
  readonly entry: AccessLogEntry
  readonly at: number
}

function toLine({ entry, at }: Kept): AccessLine {
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
 * The edge's access log per environment, for `palisade logs`: the newest `keep` lines of each environment in a
 * ring (memory stays bounded whatever the traffic), and live followers. Lines of requests that matched no
 * environment are not kept (they belong to no tenant).
 */
export class AccessLogFeed {
  readonly #keep: number
  readonly #rings = new Map<string, { items: Kept[]; next: number }>()
  readonly #listeners = new Map<string, Set<Listener>>()

  constructor(options: { keep?: number } = {}) {
    this.#keep = options.keep ?? 1000
  }

  /** Hot path (every edge request): keeps the entry as it is; the line is built only when read. */
  push(entry: AccessLogEntry, now: number): void {
    const envId = entry.environmentId
    if (envId === null) return
    let ring = this.#rings.get(envId)
    if (!ring) this.#rings.set(envId, (ring = { items: [], next: 0 }))
    const item: Kept = { entry, at: now }
    if (ring.items.length < this.#keep) ring.items.push(item)
    else ring.items[ring.next] = item
    ring.next = (ring.next + 1) % this.#keep
    const listeners = this.#listeners.get(envId)
    if (listeners) {
      const line = toLine(item)
      for (const l of listeners) l(line)
    }
  }

  /** The kept lines of an environment, oldest first. */
  recent(envId: string): AccessLine[] {
    const ring = this.#rings.get(envId)
    if (!ring) return []
    const items =
      ring.items.length < this.#keep
        ? ring.items
        : [...ring.items.slice(ring.next), ...ring.items.slice(0, ring.next)]
    return items.map(toLine)
  }

  followers(envId: string): number {
    return this.#listeners.get(envId)?.size ?? 0
  }

  subscribe(envId: string, listener: Listener): () => void {
    let set = this.#listeners.get(envId)
    if (!set) this.#listeners.set(envId, (set = new Set()))
    set.add(listener)
    return () => {
      set.delete(listener)
      if (set.size === 0) this.#listeners.delete(envId)
    }
  }

  /** Forgets a deleted environment's lines. */
  forget(envId: string): void {
    this.#rings.delete(envId)
  }
}
