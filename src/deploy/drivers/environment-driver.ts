/**
 * The environment-level seam every deploy driver fills: what an environment is (namespace, policies,
 * variables), which release serves, its jobs and services, observed through `status()`. The local driver
 * fills it with processes on this host (local/local-environment-driver.ts); the Kubernetes driver with a
 * Namespace, a Deployment, StatefulSets, Jobs and NetworkPolicies (kubernetes/kubernetes-driver.ts). The
 * conformance suite (environment-conformance.test.ts) runs the same cases on both.
 */

export type ServiceKind = 'mariadb' | 'redis' | 'postgresql'
/** Outbound connections of the app: public addresses, nothing, or a CIDR list. */
export type EnvironmentEgress = 'public' | 'none' | { readonly cidrs: readonly string[] }

export interface EnvironmentSizing {
  readonly instances: number
  readonly memoryMb: number
  readonly cpu: number
}

/** What one environment is, in a driver's terms (names for labels, the id for the namespace). */
export interface EnvironmentTarget {
  readonly environmentId: string
  readonly workspace: string
  readonly project: string
  readonly environment: string
  readonly sizing: EnvironmentSizing
  readonly healthCheckPath: string
  readonly persistentDirs: readonly string[]
  readonly variables: Readonly<Record<string, string>>
  readonly secrets: Readonly<Record<string, string>>
  readonly egress: EnvironmentEgress
  /** Client CIDRs allowed beside the edge (empty: the edge only). */
  readonly ipAllow: readonly string[]
}

/** A release: an image (Kubernetes) or a frozen release directory (local), and its command. */
export interface ReleaseArtifact {
  readonly number: number
  readonly image?: string
  readonly dir?: string
  /** The command; empty: the image's own entrypoint (Kubernetes only). */
  readonly argv: readonly string[]
  /** False for runtimes that write to their root filesystem. Default true. */
  readonly readOnlyRoot?: boolean
}

export interface JobRequest {
  /** `^[a-z][a-z0-9-]{1,62}$`, unique within the environment. */
  readonly name: string
  readonly argv: readonly string[]
  readonly timeoutMs: number
}

export type JobState = 'running' | 'succeeded' | 'failed'
export type ServiceState = 'provisioning' | 'running' | 'stopped' | 'failed'

export interface EnvironmentStatus {
  readonly exists: boolean
  /** The release serving now (its rollout finished), or null. */
  readonly currentRelease: number | null
  /** Releases kept for rollback, oldest first. */
  readonly releases: readonly number[]
  readonly desiredInstances: number
  readonly readyInstances: number
  readonly services: ReadonlyArray<{
    readonly name: string
    readonly kind: ServiceKind
    readonly state: ServiceState
  }>
  readonly jobs: ReadonlyArray<{ readonly name: string; readonly state: JobState }>
  readonly ipAllow: readonly string[]
  readonly egress: EnvironmentEgress
}

/** What a reconcile found and put back. */
export interface DriftReport {
  readonly environmentId: string
  /** `Kind/name: missing` or `Kind/name: changed`. */
  readonly repaired: readonly string[]
}

export interface EnvironmentDriver {
  readonly name: 'local' | 'kubernetes'
  /** Creates or updates what an environment is; idempotent (an unchanged apply changes nothing). */
  applyEnvironment(target: EnvironmentTarget): Promise<void>
  /** Starts `release`, waits until it is healthy on every instance, then retires the old one. */
  deploy(
    target: EnvironmentTarget,
    release: ReleaseArtifact,
    options?: { readonly timeoutMs?: number },
  ): Promise<void>
  /** Returns to the release before the current one without rebuilding; answers its number. */
  rollback(target: EnvironmentTarget, options?: { readonly timeoutMs?: number }): Promise<number>
  /** Runs a one-off command in the current release and waits for it. */
  runJob(target: EnvironmentTarget, job: JobRequest): Promise<JobState>
  /** Provisions a managed service reachable only from this environment's processes. */
  provisionService(
    target: EnvironmentTarget,
    service: {
      readonly name: string
      readonly kind: ServiceKind
      /** The password the caller generated and keeps (absent: the driver generates one). Kept once set. */
      readonly password?: string
    },
  ): Promise<void>
  /** Removes everything of the environment; resolves once it is gone. */
  removeEnvironment(environmentId: string): Promise<void>
  status(environmentId: string): Promise<EnvironmentStatus>
  close(): Promise<void>
}
