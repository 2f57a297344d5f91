import type { LimitsReport, ProcessLimits, ProcessUsage } from '../driver.js'
import { detectCgroups, type Cgroups } from './cgroups.js'

/**
 * The platform's own tools in an environment's sandbox (tar, find, rm on tenant directories): fixed limits, not
 * the tenant's sizing (they run during builds and backups whatever the environment's size).
 */
export const TOOL_LIMITS: ProcessLimits = Object.freeze({
  memoryBytes: 512 * 1024 ** 2,
  cpuQuotaUs: 100_000,
  cpuPeriodUs: 100_000,
  pidsMax: 256,
})

/** How the local driver enforces sizing: one cgroup unit per instance, run, tool or service of an environment. */
export interface Limiter {
  readonly report: LimitsReport
  /**
   * `argv` wrapped so that it enters the unit (created or updated with `limits`) before it runs; `argv`
   * itself when limits are off.
   */
  wrap(group: string, unit: string, limits: ProcessLimits, argv: readonly string[]): string[]
  update(group: string, unit: string, limits: ProcessLimits): void
  /** Use against the limits, with the average CPU since the previous call for the same unit. */
  usage(group: string, unit: string): ProcessUsage | null
  /** Kernel OOM kills in the unit so far (0 when limits are off). */
  oomKills(group: string, unit: string): number
  /** New limits for every running unit of a kind (`svc-…`: the environment's services). */
  updateKind(group: string, kind: 'svc', limits: ProcessLimits): void
  /** Kills what is left in the unit and removes it. */
  release(group: string, unit: string): Promise<void>
  /** Removes every unit of an environment (`once`: only those already empty, at close). */
  removeGroup(group: string, once?: boolean): Promise<void>
}

/** A cgroup unit name for a kind of process and an id (instance ids are `ins_<lowercase alphanumerics>`). */
export function unitName(kind: 'app' | 'run' | 'svc' | 'tools', id = ''): string {
  const tail = id
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, 60)
  return tail === '' ? kind : `${kind}-${tail}`
}

export function createLimiter(options: {
  readonly isolate: boolean
  readonly onWarning?: (message: string) => void
  /** Detection (tests); default: this host's. */
  readonly detect?: typeof detectCgroups
}): Limiter {
  let cgroups: Cgroups | null = null
  let report: LimitsReport
  if (!options.isolate) {
    report = {
      mode: 'none',
      summary:
        'not running as root: memory, CPU and process limits are OFF; one environment can take the whole host',
    }
  } else {
    const d = (options.detect ?? detectCgroups)()
    if (d.ok) {
      cgroups = d.cgroups
      report = {
        mode: d.cgroups.version === 1 ? 'cgroup-v1' : 'cgroup-v2',
        summary: `each app instance, job, build and service runs in its own cgroup (v${d.cgroups.version}) with the memory, CPU quota and process cap of the environment's sizing`,
      }
    } else {
      report = {
        mode: 'none',
        summary: `cgroups unavailable (${d.reason}): memory, CPU and process limits are OFF; one environment can take the whole host`,
      }
    }
  }
  if (report.mode === 'none') options.onWarning?.(`sizing limits: ${report.summary}`)
  const samples = new Map<string, { at: number; us: number; recent: number | null }>()

  return {
    report,
    wrap(group, unit, limits, argv) {
      if (!cgroups) return [...argv]
      try {
        cgroups.ensure(group, unit, limits)
      } catch (err) {
        // Fail closed, without throwing into a restart timer: the process is not started unlimited.
        const why = (err as NodeJS.ErrnoException).code ?? 'error'
        options.onWarning?.(`sizing limits: could not set up ${group}/${unit}: ${why}`)
        return [
          '/bin/sh',
          '-c',
          'echo "$1" >&2; exit 125',
          'palisade',
          `[palisade] the process was not started: its limits could not be set up (${why})`,
        ]
      }
      return cgroups.launcherArgv(group, unit, argv)
    },
    update(group, unit, limits) {
      cgroups?.update(group, unit, limits)
    },
    updateKind(group, kind, limits) {
      if (!cgroups) return
      for (const unit of cgroups.units(group))
        if (unit.startsWith(`${kind}-`)) cgroups.update(group, unit, limits)
    },
    usage(group, unit) {
      const u = cgroups?.usage(group, unit)
      if (!u) return null
      const key = `${group}/${unit}`
      const now = Date.now()
      const prev = samples.get(key)
      // Two calls close together (a status answer reads each instance twice) keep the earlier sample.
      let recent = prev?.recent ?? null
      if (!prev || now - prev.at >= 200) {
        if (prev && u.cpuUsageUs >= prev.us)
          recent = Math.round(((u.cpuUsageUs - prev.us) / ((now - prev.at) * 1000)) * 100) / 100
        samples.set(key, { at: now, us: u.cpuUsageUs, recent })
      }
      return {
        memoryBytes: u.memoryBytes,
        memoryLimitBytes: u.memoryLimitBytes,
        cpuUsageUs: u.cpuUsageUs,
        cpuRecent: recent,
        pids: u.pids,
        pidsMax: u.pidsMax,
      }
    },
    oomKills(group, unit) {
      return cgroups?.usage(group, unit)?.oomKills ?? 0
    },
    async release(group, unit) {
      samples.delete(`${group}/${unit}`)
      if (!cgroups) return
      cgroups.killAll(group, unit)
      await cgroups.remove(group, unit)
    },
    async removeGroup(group, once) {
      for (const k of samples.keys()) if (k.startsWith(`${group}/`)) samples.delete(k)
      await cgroups?.removeGroup(group, once)
    },
  }
}
