import { EdgeConfigError } from './errors.js'
import { compileAllowList, type AllowList } from './ip-allow.js'
import type { EdgeRoute } from './types.js'

/** A route plus what the edge precomputes for it once per upsert, never per request. */
export interface CompiledRoute {
  readonly route: EdgeRoute
  readonly allow: AllowList | null
}

const HOST_RE = /^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*$/

/** Lowercases, strips a port and a trailing dot. Returns '' for something that is not a host name. */
export function normalizeHost(raw: string | undefined): string {
  if (!raw) return ''
  let host = raw.trim().toLowerCase()
  if (host.startsWith('[')) return '' // IP literals are never routed
  const colon = host.indexOf(':')
  if (colon !== -1) host = host.slice(0, colon)
  if (host.endsWith('.')) host = host.slice(0, -1)
  return HOST_RE.test(host) ? host : ''
}

/**
 * In-memory map of host → route, written by the control plane and read per request.
 * An upsert replaces the whole route object in one assignment per host, so a request that already looked
 * its route up finishes on the old target while the next one sees the new target.
 */
export class RouteTable {
  readonly #byHost = new Map<string, CompiledRoute>()
  readonly #byEnv = new Map<string, CompiledRoute>()
  readonly #listeners = new Set<() => void>()

  /** Adds or replaces an environment's route. Throws when a host belongs to another environment. */
  upsert(route: EdgeRoute): void {
    const hosts = route.hosts.map((h) => normalizeHost(h))
    for (const [i, host] of hosts.entries()) {
      if (host === '') throw new EdgeConfigError('PAL_EDGE_ROUTE_INVALID', `invalid host name at hosts[${i}]`)
      const owner = this.#byHost.get(host)
      if (owner && owner.route.environmentId !== route.environmentId) {
        throw new EdgeConfigError('PAL_EDGE_HOST_TAKEN', `host ${host} is routed to another environment`)
      }
    }
    const frozen: EdgeRoute = Object.freeze({ ...route, hosts: Object.freeze([...new Set(hosts)]) })
    const compiled: CompiledRoute = Object.freeze({
      route: frozen,
      allow: route.access.ipAllow.length > 0 ? compileAllowList(route.access.ipAllow) : null,
    })
    const previous = this.#byEnv.get(route.environmentId)
    for (const host of frozen.hosts) this.#byHost.set(host, compiled)
    if (previous) {
      for (const host of previous.route.hosts) {
        if (!frozen.hosts.includes(host)) this.#byHost.delete(host)
      }
    }
    this.#byEnv.set(route.environmentId, compiled)
    this.#changed()
  }

  /** Removes an environment's route; unknown ids are ignored. */
  remove(environmentId: string): void {
    const previous = this.#byEnv.get(environmentId)
    if (!previous) return
    for (const host of previous.route.hosts) {
      if (this.#byHost.get(host) === previous) this.#byHost.delete(host)
    }
    this.#byEnv.delete(environmentId)
    this.#changed()
  }

  /** The route for a Host header value (port and case ignored), or undefined. */
  lookup(host: string): EdgeRoute | undefined {
    return this.#byHost.get(normalizeHost(host))?.route
  }

  /** @internal the edge's per-request lookup with precomputed allow list. */
  lookupCompiled(normalizedHost: string): CompiledRoute | undefined {
    return this.#byHost.get(normalizedHost)
  }

  /** Every route currently in the table. */
  list(): EdgeRoute[] {
    return [...this.#byEnv.values()].map((c) => c.route)
  }

  /** @internal called after every change (the proxy retires unused upstream pools). */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  #changed(): void {
    for (const listener of this.#listeners) listener()
  }
}
