import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { systemClock, type Clock } from '../shared/clock.js'
import { InternalError } from '../shared/errors.js'
import type { Environment } from '../tenancy/index.js'
import { findRuntime, refreshCatalog, shippedCatalog } from './catalog/catalog.js'
import type { FetchJson } from './catalog/refresh-node.js'
import type { RuntimeCatalog } from './catalog/types.js'
import { validateCatalog } from './catalog/validate-catalog.js'
import { RUNTIME_ERRORS } from './errors.js'
import { planRuntimeUpdates, type RuntimePlan, type RuntimePolicy } from './planner.js'
import { parseRuntimeSetting, type Channel } from './setting.js'

export interface RuntimesOptions {
  /** `<data>`: a refreshed catalog lives in `<data>/runtimes/catalog.json`. Without it, the shipped snapshot is used. */
  readonly dataDir?: string
  readonly clock?: Clock
  readonly policy?: Partial<RuntimePolicy>
  /**
   * The exact version an environment runs now (its current release's pin), supplied by deploy.
   * When it gives none, only exact settings (`node@20.11.1`) have a current version.
   */
  readonly currentVersion?: (environment: Environment) => Promise<string | null>
}

export interface PlanOptions {
  readonly current?: string | null
  readonly channel?: Channel
  readonly postponedUntil?: Date
}

export interface CatalogSummaryEntry {
  readonly runtime: string
  readonly major: number
  readonly releasedAt: string
  readonly ltsFrom: string | null
  readonly eolAt: string
  readonly latest: string | null
}

export function catalogFile(dataDir: string): string {
  return path.join(dataDir, 'runtimes', 'catalog.json')
}

export function createRuntimes(options: RuntimesOptions = {}) {
  const opts = Object.freeze({ ...options })
  const clock = opts.clock ?? systemClock
  let cached: { mtimeMs: number; catalog: RuntimeCatalog } | undefined

  /** The refreshed catalog when one was written and is newer than the snapshot, else the snapshot. */
  function catalog(): RuntimeCatalog {
    const shipped = shippedCatalog()
    if (!opts.dataDir) return shipped
    const file = catalogFile(opts.dataDir)
    let mtimeMs: number
    try {
      mtimeMs = statSync(file).mtimeMs
    } catch {
      return shipped
    }
    if (cached?.mtimeMs !== mtimeMs) {
      // An invalid file fails loudly (PAL_RUNTIME_CATALOG_INVALID) instead of silently planning from stale data.
      try {
        cached = { mtimeMs, catalog: validateCatalog(JSON.parse(readFileSync(file, 'utf8')) as unknown) }
      } catch (error) {
        // The operator's file, not the caller's input: a server-side fault (5xx), never a silent fallback.
        throw new InternalError(RUNTIME_ERRORS.catalogInvalid, `${file} is not a valid runtime catalog`, {
          cause: error,
        })
      }
    }
    return cached.catalog.generatedAt >= shipped.generatedAt ? cached.catalog : shipped
  }

  async function currentFor(env: Environment): Promise<string | null> {
    const pinned = opts.currentVersion ? await opts.currentVersion(env) : null
    if (pinned !== null) return pinned
    // Without a pinned release (never deployed, or pinning off), an exact setting is its own version.
    const setting = parseRuntimeSetting(env.runtime)
    return setting.kind === 'exact'
      ? `${setting.version.major}.${setting.version.minor}.${setting.version.patch}`
      : null
  }

  return {
    catalog,

    /** The update plan of one environment (the caller has authorized `environment.read`). */
    async planFor(env: Environment, plan: PlanOptions = {}): Promise<RuntimePlan> {
      const current = plan.current === undefined ? await currentFor(env) : plan.current
      return planRuntimeUpdates({
        catalog: catalog(),
        // The environment's own channel unless the caller asks about another (a what-if).
        setting: parseRuntimeSetting(env.runtime, plan.channel ?? env.runtimeChannel),
        current,
        window: env.maintenanceWindow,
        now: clock.now(),
        ...(plan.postponedUntil ? { postponedUntil: plan.postponedUntil } : {}),
        ...(opts.policy ? { policy: opts.policy } : {}),
      })
    },

    /** Every major of every runtime with its support dates and latest released version. */
    summary(): CatalogSummaryEntry[] {
      const c = catalog()
      const now = clock.now().toISOString()
      return Object.keys(c.runtimes).flatMap((name) => {
        const entry = findRuntime(c, name)
        if (!entry) return []
        return entry.majors.map((m) => ({
          runtime: name,
          major: m.major,
          releasedAt: m.releasedAt,
          ltsFrom: m.ltsFrom,
          eolAt: m.eolAt,
          latest:
            entry.versions.filter((v) => v.version.startsWith(`${m.major}.`) && v.releasedAt <= now).at(-1)
              ?.version ?? null,
        }))
      })
    },

    /** Rebuilds the Node catalog from the registry and writes it to `<data>/runtimes/catalog.json` (atomically). */
    async refresh(fetchJson: FetchJson): Promise<{ catalog: RuntimeCatalog; file: string; added: string[] }> {
      if (!opts.dataDir)
        throw new InternalError(RUNTIME_ERRORS.refreshFailed, 'runtimes.refresh needs a data directory')
      const before = catalog()
      const next = await refreshCatalog(before, fetchJson, clock.now())
      const known = new Set((before.runtimes['node']?.versions ?? []).map((v) => v.version))
      const added = (next.runtimes['node']?.versions ?? [])
        .filter((v) => !known.has(v.version))
        .map((v) => v.version)
      const file = catalogFile(opts.dataDir)
      mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 })
      const tmp = `${file}.${process.pid}.tmp`
      writeFileSync(tmp, JSON.stringify(next) + '\n', { mode: 0o644 })
      renameSync(tmp, file)
      return { catalog: next, file, added }
    },
  }
}

export type Runtimes = ReturnType<typeof createRuntimes>
