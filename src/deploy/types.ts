import type { DomainOptions } from './domains.js'
import type { AuditLog } from '../audit/index.js'
import type { Database, Kysely } from '../store/index.js'
import type { Tenancy } from '../tenancy/index.js'
import type { Clock } from '../shared/clock.js'
import type { DeployDriver, ProcessStatus } from './drivers/driver.js'

export const DEPLOYMENT_STATUSES = ['queued', 'building', 'deploying', 'succeeded', 'failed'] as const
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number]

export interface Deployment {
  readonly id: string
  readonly environmentId: string
  readonly number: number
  /**
   * `deploy` builds from git; `rollback` starts an earlier release without building; `runtime-update`
   * rebuilds the current release's code (same commit, no fetch) on a newer runtime version (the platform's scheduler).
   */
  readonly kind: 'deploy' | 'rollback' | 'runtime-update'
  readonly status: DeploymentStatus
  readonly ref: string | null
  readonly commit: string | null
  readonly release: number | null
  readonly createdAt: string
  readonly startedAt: string | null
  readonly finishedAt: string | null
  /** Why it failed (null otherwise). */
  readonly reason: string | null
  /** The exact runtime version this deployment's release runs on (`20.19.6`); null when not pinned. */
  readonly runtimeVersion: string | null
}

export const JOB_TYPES = ['restart', 'flush-cache', 'maintenance-on', 'maintenance-off', 'command'] as const
export type JobType = (typeof JOB_TYPES)[number]

export interface Job {
  readonly id: string
  readonly environmentId: string
  readonly type: JobType
  readonly command: string | null
  readonly status: 'queued' | 'running' | 'succeeded' | 'failed'
  readonly exitCode: number | null
  readonly reason: string | null
  readonly createdAt: string
  readonly finishedAt: string | null
}

export interface EnvironmentRuntimeStatus {
  readonly environmentId: string
  readonly currentRelease: number | null
  readonly currentDeploymentId: string | null
  readonly maintenance: boolean
  /** The first instance of the current release (null for static sites and before the first deploy). */
  readonly process: ProcessStatus | null
  /** Every instance of the current release: state, pid, restarts, use against the limits, last OOM. */
  readonly instances: ReadonlyArray<ProcessStatus & { readonly healthy: boolean }>
  /** The environment's sizing (what the instances are started with). */
  readonly sizing: { readonly instances: number; readonly memoryMb: number; readonly cpu: number }
  /** Whether this host enforces the sizing's limits (`none`: not root or no cgroups; see the control plane log). */
  readonly limits: 'cgroup-v1' | 'cgroup-v2' | 'none'
  readonly isolation: 'namespaces' | 'none'
}

export interface EnvironmentAccess {
  readonly ipAllow: readonly string[]
  readonly ipGroups: readonly string[]
  /** The password itself is never returned. */
  readonly password: { readonly username: string } | null
}

export interface AccessInput {
  readonly ipAllow: readonly string[]
  readonly ipGroups: readonly string[]
  readonly password: { readonly username: string; readonly password: string } | null
}

/**
 * A change to some of the access rules: an omitted field stays as it is. `password` omitted keeps the protection
 * (user name and stored hash) unchanged; `null` turns it off; an object turns it on with a new user and password.
 */
export interface AccessPatch {
  readonly ipAllow?: readonly string[]
  readonly ipGroups?: readonly string[]
  readonly password?: AccessInput['password']
}

export interface Domain {
  readonly name: string
  readonly environmentId: string
  readonly createdAt: string
  /** `pending`: claimed, not routed; `verified`: proven and routed by the edge. */
  readonly status: 'pending' | 'verified'
  readonly verifiedAt: string | null
  readonly checkedAt: string | null
  /** How to prove control of the name: either one is enough. */
  readonly verification: {
    readonly dns: { readonly name: string; readonly type: 'TXT'; readonly value: string }
    readonly http: { readonly url: string; readonly body: string }
  }
  /** The certificate the edge serves for the name (ACME or the local CA), and the last order's failure. */
  readonly certificate: DomainCertificate
}

/** Structurally the edge's `CertificateStatus` (deploy does not import the edge). */
export interface DomainCertificate {
  readonly source: 'acme' | 'local_ca' | 'none'
  readonly status: 'valid' | 'pending' | 'failed' | 'none'
  readonly issuer: string | null
  readonly notAfter: string | null
  readonly lastError: string | null
}

/** Shape of the edge's route (structurally the edge's `EdgeRoute`; deploy does not import the edge). */
export interface PublishedRoute {
  readonly environmentId: string
  readonly workspaceId: string
  readonly hosts: readonly string[]
  readonly target:
    | {
        readonly kind: 'proxy'
        readonly upstream: { readonly socketPath: string } | { readonly host: string; readonly port: number }
        /** Every healthy instance (sizing.instances > 1); the edge balances over them. */
        readonly upstreams?: ReadonlyArray<
          { readonly socketPath: string } | { readonly host: string; readonly port: number }
        >
      }
    | { readonly kind: 'static'; readonly root: string }
    | { readonly kind: 'none' }
  readonly maintenance: boolean
  readonly access: {
    readonly ipAllow: readonly string[]
    readonly basicAuth: { readonly username: string; readonly passwordHash: string } | null
  }
  readonly throttle: { readonly requestsPerSecond: number; readonly burst: number }
  readonly waf: unknown
  readonly httpsRedirect: boolean
  readonly hsts: boolean
}

/** Where routes go: the edge's RouteTable in production. */
export interface RouteSink {
  upsert(route: PublishedRoute): void
  remove(environmentId: string): void
}

export interface DeployOptions {
  /** Old release keeps serving in-flight requests this long after the switch, ms. */
  readonly drainMs: number
  /** SIGTERM → SIGKILL grace when stopping a process, ms. */
  readonly stopGraceMs: number
  readonly healthTimeoutMs: number
  /** Each build step (and git) is killed past this, ms. */
  readonly buildTimeoutMs: number
  /** A one-off command or cache flush is killed past this, ms. */
  readonly jobTimeoutMs: number
  /** Release directories kept per environment (current and previous included). */
  readonly keepReleases: number
  /** Deployments and jobs waiting per environment before new ones are refused. */
  readonly maxQueued: number
  /** Per log file (one rotated file kept), bytes. */
  readonly logCapBytes: number
  readonly throttle: { readonly requestsPerSecond: number; readonly burst: number }
}

export const DEFAULT_DEPLOY_OPTIONS: DeployOptions = Object.freeze({
  drainMs: 2_000, // 2 s: in-flight requests of the old release finish (the edge already sends new ones to the new release)
  stopGraceMs: 10_000, // 10 s for a clean shutdown before SIGKILL
  healthTimeoutMs: 30_000, // 30 s for an app to answer its health check
  buildTimeoutMs: 15 * 60_000, // 15 min per build step: a hung install does not block the queue forever
  jobTimeoutMs: 10 * 60_000, // 10 min per one-off command
  keepReleases: 5,
  maxQueued: 10, // per environment: a runaway script cannot queue unbounded builds
  logCapBytes: 5 * 1024 * 1024, // 5 MiB per log file, one rotation: at most 10 MiB per deployment
  throttle: Object.freeze({ requestsPerSecond: 100, burst: 200 }), // per client IP and environment
})

/**
 * Exact runtime versions for `node@…` environments (implemented by the runtimes capability, wired by the
 * composition root). Without it, builds and processes use the host's node and the log says so.
 */
export interface RuntimePins {
  /**
   * The exact version a new build of `runtime` (an environment setting such as `node@20`) gets now, or
   * null when the setting is not pinned (static, custom). Throws a PalisadeError when nothing matches.
   */
  resolve(runtime: string): string | null
  /** Installs `version` once (cached and shared) and returns the directory to put first on PATH. */
  prepare(version: string): Promise<{ readonly binDir: string; readonly cached: boolean }>
}

export interface DeployLogger {
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
}

export interface DeployDeps {
  readonly db: Kysely<Database>
  readonly audit: AuditLog
  readonly clock: Clock
  readonly tenancy: Tenancy
  readonly driver: DeployDriver
  readonly dataDir: string
  readonly baseDomain: string
  /** Directories local repositories may be deployed from (PALISADE_GIT_LOCAL_ROOTS). */
  readonly gitLocalRoots: readonly string[]
  readonly logger?: DeployLogger
  readonly options?: Partial<DeployOptions>
  /** Per-environment WAF settings for the route (filled by the WAF capability; `{}` without it). */
  readonly wafSettings?: (environmentId: string) => Promise<unknown>
  /**
   * Resolves once every edge worker serves the routes published so far (the edge's worker processes); a
   * switch is reported done, and the old release drained, only after it. Absent: the sink applies at once.
   */
  readonly edgeApplied?: () => Promise<void>
  /** Pins `node@…` releases to exact runtime versions; without it the host's node runs them. */
  readonly runtimePins?: RuntimePins
  /** Connection variables of the environment's services (DATABASE_URL, REDIS_URL, ...); none without it. */
  readonly serviceVariables?: (environmentId: string) => Promise<Record<string, string>>
  /** Custom domain proofs (resolver, HTTP port) and re-check tolerance; the system resolver by default. */
  readonly domains?: DomainOptions
  /**
   * Under PALISADE_DRIVER=kubernetes: where releases and jobs run instead of this host (the Kubernetes
   * driver, through `createClusterReleases` in kubernetes-control.ts). Absent: the local driver runs them.
   */
  readonly cluster?: ClusterReleases
}

/** A release as the cluster runs it: an image and its command (empty: the image's own). */
export interface ClusterRelease {
  readonly number: number
  readonly image: string
  readonly argv: readonly string[]
  readonly readOnlyRoot: boolean
}

/**
 * The seam the deployer uses when the environment's processes run in a cluster: an image for a new release
 * (the customer's own for custom runtimes, else built in the cluster from git), a rollout that resolves once
 * every instance of it is ready, rollbacks that re-apply a kept release's spec, jobs as cluster Jobs.
 */
export interface ClusterReleases {
  /**
   * Throws a Palisade 4xx error (invalid image, no https repository, no registry) when a deployment of this
   * runtime and repository cannot be built or run in the cluster; checked before a deployment is queued.
   */
  check(input: { readonly runtime: string; readonly repository: string | null }): void
  /** The image of a new release and how it starts; `onLog` gets progress lines. */
  image(
    environmentId: string,
    build: {
      readonly number: number
      /** The environment's runtime setting (`node@20`, `static`, `custom:<image>`). */
      readonly runtime: string
      /** The exact runtime version pinned for this build (standard runtimes), or null. */
      readonly runtimeVersion: string | null
      /** The project's repository (an https URL for in-cluster builds), or null. */
      readonly repository: string | null
      readonly ref: string
    },
    onLog: (line: string) => void,
  ): Promise<ClusterRelease>
  /** Applies the environment and rolls the release out; resolves when every instance of it is ready. */
  rollOut(environmentId: string, release: ClusterRelease): Promise<void>
  /** Rolls an earlier release out again from its kept spec (no rebuild). */
  rollBackTo(environmentId: string, number: number): Promise<void>
  /** New instances of the current release, rolled out like a deployment. */
  restart(environmentId: string): Promise<void>
  /** Runs a one-off command in the current release's image as a cluster Job and waits for it. */
  runJob(
    environmentId: string,
    job: { readonly name: string; readonly argv: readonly string[]; readonly timeoutMs: number },
  ): Promise<'succeeded' | 'failed'>
  /** Where the edge sends the environment's requests (the app's cluster Service). */
  upstream(environmentId: string): { readonly host: string; readonly port: number }
}
