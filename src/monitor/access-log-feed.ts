import {
  accessLineEnvironment,
  decodeAccessLine,
  type AccessLine,
  type AccessLogEntry,
} from '../edge/index.js'

export type { AccessLine }

type Listener = (line: AccessLine) => void

/** An entry from an in-process edge, or a worker's encoded line: both read only when someone asks. */
type Kept = { readonly entry: AccessLogEntry; readonly at: number } | string

function toLine(kept: Kept): AccessLine | null {
  if (typeof kept === 'string') return decodeAccessLine(kept)
  const { entry, at } = kept
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
    if (entry.environmentId !== null) this.#keepItem(entry.environmentId, { entry, at: now })
  }

  /** A batch of edge workers' lines (encodeAccessLine, `\n` between them), kept as strings until read. */
  pushLines(lines: string): void {
    if (lines === '') return
    let start = 0
    for (;;) {
      const end = lines.indexOf('\n', start)
      const line = end === -1 ? lines.slice(start) : lines.slice(start, end)
      const envId = accessLineEnvironment(line)
      if (envId !== '') this.#keepItem(envId, line)
      if (end === -1) return
      start = end + 1
    }
  }

  #keepItem(envId: string, item: Kept): void {
    let ring = this.#rings.get(envId)
    if (!ring) this.#rings.set(envId, (ring = { items: [], next: 0 }))
    if (ring.items.length < this.#keep) ring.items.push(item)
    else ring.items[ring.next] = item
    ring.next = (ring.next + 1) % this.#keep
    const listeners = this.#listeners.get(envId)
    if (listeners) {
      const line = toLine(item)
      if (line) for (const l of listeners) l(line)
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
    const lines: AccessLine[] = []
    for (const item of items) {
      const line = toLine(item)
      if (line) lines.push(line)
    }
    return lines
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
