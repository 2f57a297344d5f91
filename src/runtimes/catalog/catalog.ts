import { compareVersions, getVersion, parseVersion, type Version } from '../semver.js'
import { refreshNodeCatalog, type FetchJson, NPM_REGISTRY, NODE_PACKAGE } from './refresh-node.js'
import snapshot from './snapshot.json' with { type: 'json' }
import type { MajorInfo, RuntimeCatalog, RuntimeEntry, VersionInfo } from './types.js'
import { validateCatalog } from './validate-catalog.js'

let shipped: RuntimeCatalog | undefined

/** The dated snapshot shipped with Palisade (works offline). Validated once, then shared read-only. */
export function shippedCatalog(): RuntimeCatalog {
  shipped ??= deepFreeze(validateCatalog(snapshot))
  return shipped
}

/** A new catalog whose Node entry is rebuilt from the registry; other runtimes are kept. */
export async function refreshCatalog(
  base: RuntimeCatalog,
  fetchJson: FetchJson,
  now: Date,
): Promise<RuntimeCatalog> {
  const previous = base.runtimes['node']
  const node = await refreshNodeCatalog(fetchJson, previous === undefined ? {} : { previous })
  const source = `${NPM_REGISTRY}/${NODE_PACKAGE}`
  return validateCatalog({
    generatedAt: now.toISOString(),
    sources: [...new Set([...base.sources, source])],
    runtimes: { ...base.runtimes, node },
  })
}

export function findRuntime(catalog: RuntimeCatalog, name: string): RuntimeEntry | undefined {
  return Object.hasOwn(catalog.runtimes, name) ? catalog.runtimes[name] : undefined
}

export function findMajor(entry: RuntimeEntry, major: number): MajorInfo | undefined {
  return entry.majors.find((m) => m.major === major)
}

/** A catalog version with its parsed form. */
export interface Release extends VersionInfo {
  readonly v: Version
}

/** Versions released at or before `now`, ascending. */
export function releasedBy(entry: RuntimeEntry, now: Date): Release[] {
  const at = now.getTime()
  return entry.versions
    .filter((r) => Date.parse(r.releasedAt) <= at && parseVersion(r.version))
    .map((r) => ({ ...r, v: getVersion(r.version) }))
    .sort((a, b) => compareVersions(a.v, b.v))
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v)
    Object.freeze(value)
  }
  return value
}
