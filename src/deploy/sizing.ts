/**
 * What an environment's sizing means, in one place for every driver: the local driver turns these limits
 * into cgroup settings, the Kubernetes driver into `replicas` and `resources.requests/limits`.
 *
 * `memoryMb` and `cpu` are per instance (as a Heroku dyno size or a Kubernetes container's limits): three
 * instances of 512 MB may use 1.5 GB together. Jobs get one instance's share; builds get their own, never
 * smaller than a build needs; each service (MariaDB, Redis, PostgreSQL) gets its own share beside the app's.
 */
import type { ProcessLimits } from './drivers/driver.js'
import type { Sizing } from '../tenancy/index.js'

export type { ProcessLimits } from './drivers/driver.js'

const MiB = 1024 ** 2
/** The CFS period: quotas are expressed per 100 ms (the kernel's default). */
export const CPU_PERIOD_US = 100_000

/**
 * Process-count caps (threads count: Node runs ~11, MariaDB one per connection). Threat: a fork bomb in one
 * environment exhausting the host's process table, so that nothing else — other tenants, the control plane,
 * sshd — can start a process.
 */
export const PIDS = Object.freeze({ app: 512, job: 512, build: 1024, service: 512 })

/** Builds run `npm ci` and compilers: at least this much memory and one CPU whatever the app's size. */
export const BUILD_FLOOR = Object.freeze({ memoryMb: 1024, cpu: 1 })
/** Each service: half the app's instance size, at least this much (a database below it does not start). */
export const SERVICE_FLOOR = Object.freeze({ memoryMb: 256, cpu: 0.5 })

/** The limits of every kind of process an environment runs, derived from its sizing. */
export interface SizingPlan {
  /** Web processes of the current release. */
  readonly instances: number
  /** Each web process. */
  readonly app: ProcessLimits
  /** A job (`command`, `flush-cache`) and the platform's tools run in the environment. */
  readonly job: ProcessLimits
  /** Each build. */
  readonly build: ProcessLimits
  /** Each service daemon of the environment. */
  readonly service: ProcessLimits
}

function limits(memoryMb: number, cpu: number, pidsMax: number): ProcessLimits {
  return Object.freeze({
    memoryBytes: Math.round(memoryMb) * MiB,
    // At least 1 ms per period: the kernel refuses smaller quotas.
    cpuQuotaUs: Math.max(1_000, Math.round(cpu * CPU_PERIOD_US)),
    cpuPeriodUs: CPU_PERIOD_US,
    pidsMax,
  })
}

/** The limits an environment's sizing gives its processes (see the module comment for what each means). */
export function planSizing(sizing: Sizing): SizingPlan {
  return Object.freeze({
    instances: sizing.instances,
    app: limits(sizing.memoryMb, sizing.cpu, PIDS.app),
    job: limits(sizing.memoryMb, sizing.cpu, PIDS.job),
    build: limits(
      Math.max(sizing.memoryMb, BUILD_FLOOR.memoryMb),
      Math.max(sizing.cpu, BUILD_FLOOR.cpu),
      PIDS.build,
    ),
    service: limits(
      Math.max(sizing.memoryMb / 2, SERVICE_FLOOR.memoryMb),
      Math.max(sizing.cpu / 2, SERVICE_FLOOR.cpu),
      PIDS.service,
    ),
  })
}

/** A CPU amount in the form the Kubernetes API server stores it (`1`, `250m`): a read-back compares equal. */
export function cpuQuantity(cpu: number): string {
  const milli = Math.max(1, Math.round(cpu * 1000))
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`
}

/** A memory amount in MiB in the form the Kubernetes API server stores it (`2Gi`, `300Mi`). */
export function memoryQuantity(mb: number): string {
  return mb % 1024 === 0 ? `${mb / 1024}Gi` : `${mb}Mi`
}

/**
 * The same limits for the Kubernetes driver: `limits` are the sizing (what the local driver enforces with
 * cgroups); `requests` are half of it (at least 32 MiB), so a node can pack environments that do not use all
 * of theirs, as processes on one host do.
 */
export function kubernetesResources(l: ProcessLimits): {
  requests: { cpu: string; memory: string }
  limits: { cpu: string; memory: string }
} {
  const cpu = l.cpuQuotaUs / l.cpuPeriodUs
  const memoryMb = Math.round(l.memoryBytes / MiB)
  return {
    requests: { cpu: cpuQuantity(cpu / 2), memory: memoryQuantity(Math.max(32, Math.floor(memoryMb / 2))) },
    limits: { cpu: cpuQuantity(cpu), memory: memoryQuantity(memoryMb) },
  }
}

/** The sizing as the environment row stores it (JSON), with defaults for anything missing or malformed. */
export function parseSizing(json: string | null | undefined, defaults: Sizing): Sizing {
  if (!json) return defaults
  try {
    const v = JSON.parse(json) as Partial<Record<keyof Sizing, unknown>>
    const num = (x: unknown, d: number): number =>
      typeof x === 'number' && Number.isFinite(x) && x > 0 ? x : d
    return {
      instances: Math.max(1, Math.floor(num(v.instances, defaults.instances))),
      memoryMb: num(v.memoryMb, defaults.memoryMb),
      cpu: num(v.cpu, defaults.cpu),
    }
  } catch {
    return defaults
  }
}
