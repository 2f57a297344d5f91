import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import {
  baselineRuleSet,
  createWaf,
  crsRuleSet,
  DEFAULT_WAF_SETTINGS,
  MemoryBudget,
  type Waf,
  type WafSettings,
  type WafSource,
} from '../waf/index.js'
import type { EdgeLogger, EdgeRoute } from './types.js'

/** A WafSource over the real file system. Globs may use `*` and `?` in any path segment. */
export function createFsWafSource(): WafSource {
  const listFiles = (pattern: string): string[] => {
    if (!/[*?]/.test(pattern)) {
      try {
        return readdirSync(pattern)
          .sort()
          .map((n) => join(pattern, n))
      } catch {
        return existsSync(pattern) ? [pattern] : []
      }
    }
    const star = pattern.search(/[*?]/)
    const base = dirname(pattern.slice(0, star) + 'x')
    let paths = [base]
    for (const seg of pattern.slice(base.length + 1).split('/')) {
      const re = new RegExp(
        '^' +
          seg
            .replace(/[.+^${}()|[\]\\]/g, '\\$&')
            .replace(/\*/g, '.*')
            .replace(/\?/g, '.') +
          '$',
      )
      const next: string[] = []
      for (const p of paths) {
        let names: string[]
        try {
          names = readdirSync(p)
        } catch {
          continue
        }
        for (const n of names.sort()) if (re.test(n)) next.push(join(p, n))
      }
      paths = next
    }
    return paths
  }
  // latin1: rule and data files are bytes, as ModSecurity reads them.
  return { readFile: (path) => readFileSync(path, 'latin1'), listFiles }
}

/** The per-environment tuning the deployer publishes on a route (tenancy's WAF settings). */
interface RouteWafTuning {
  readonly paranoia?: unknown
  readonly inboundThreshold?: unknown
  readonly outboundThreshold?: unknown
  readonly exclusions?: unknown
}

/** Distinct tunings compiled at most; beyond it the least recently used one is compiled again on demand. */
const MAX_COMPILED = 32
/**
 * What all compiled WAFs together remember about values seen (MissMemo records and RE2-set answers, counted in
 * characters plus a fixed cost per entry): about 3 WAFs' worth, so 32 busy tunings stay within ~100 MB of heap.
 */
const SHARED_MEMORY_UNITS = 36 * 1024 * 1024
/** The budget of what one process's compiled WAFs remember (per edge worker), in memory units. */
export const WAF_MEMORY_BUDGET_UNITS = SHARED_MEMORY_UNITS

/**
 * Compiled WAFs for the edge, one per distinct tuning (paranoia, thresholds, exclusions), so environments
 * with the default settings share one. The CRS comes from `crsDir`; when it is missing, the built-in
 * baseline rules protect instead (logged loudly). A tuning that does not compile falls back to the default
 * one: a configuration mistake never leaves an environment unprotected.
 */
export function createWafCache(options: {
  readonly crsDir: string
  readonly source?: WafSource
  readonly logger?: EdgeLogger
}): {
  wafFor(route: EdgeRoute): Waf
  /** The WAF for a tuning given outside any route (the traffic-decision endpoint). */
  wafForTuning(tuning: unknown, environmentId?: string): Waf
  readonly rules: 'crs' | 'baseline'
} {
  const source = options.source ?? createFsWafSource()
  const rules =
    source.listFiles(`${options.crsDir.replace(/\/$/, '')}/rules/*.conf`).length > 0 ? 'crs' : 'baseline'
  if (rules === 'baseline') {
    options.logger?.error(
      { crsDir: options.crsDir },
      'OWASP CRS not found: the edge protects with the built-in baseline rules only (install modsecurity-crs or set PALISADE_CRS_DIR)',
    )
  }
  const memory = new MemoryBudget(SHARED_MEMORY_UNITS)
  const compile = (settings: WafSettings): Waf =>
    createWaf(rules === 'crs' ? crsRuleSet(options.crsDir, settings, source) : baselineRuleSet(settings), {
      memory,
    })
  const fallback = compile({ ...DEFAULT_WAF_SETTINGS })
  const compiled = new Map<string, Waf>()

  function wafForTuning(given: unknown, environmentId?: string): Waf {
    const tuning = (given ?? {}) as RouteWafTuning
    const settings = {
      ...DEFAULT_WAF_SETTINGS,
      ...(tuning.paranoia === undefined ? {} : { paranoia: tuning.paranoia }),
      ...(tuning.inboundThreshold === undefined ? {} : { inboundThreshold: tuning.inboundThreshold }),
      ...(tuning.outboundThreshold === undefined ? {} : { outboundThreshold: tuning.outboundThreshold }),
      ...(tuning.exclusions === undefined ? {} : { exclusions: tuning.exclusions }),
    } as WafSettings
    const key = JSON.stringify([
      settings.paranoia,
      settings.inboundThreshold,
      settings.outboundThreshold,
      settings.exclusions,
    ])
    const hit = compiled.get(key)
    if (hit) {
      compiled.delete(key)
      compiled.set(key, hit)
      return hit
    }
    let waf = fallback
    try {
      waf = compile(settings)
    } catch (err) {
      options.logger?.error(
        { err, environmentId },
        'WAF settings do not compile; the environment is protected with the default settings',
      )
    }
    compiled.set(key, waf)
    if (compiled.size > MAX_COMPILED) {
      const [oldestKey, oldest] = compiled.entries().next().value!
      compiled.delete(oldestKey)
      // Its remembered values go back to the shared budget; transactions still running on it finish normally.
      // Only the fallback stands under more than one tuning (those that do not compile), and it stays.
      if (oldest !== fallback) oldest.release()
    }
    return waf
  }

  return {
    rules,
    wafFor: (route: EdgeRoute): Waf => wafForTuning(route.waf, route.environmentId),
    wafForTuning,
  }
}
