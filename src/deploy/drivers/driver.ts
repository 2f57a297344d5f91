import type { TenantFiles } from '../../shared/tenant-files.js'

/**
 * What a deploy driver does: run an environment's web process (supervised) and one-off commands
 * (builds, jobs). The local driver runs processes on this host; a Kubernetes driver would map the
 * same calls to Deployments and Jobs.
 */

/** How the edge reaches a process. */
export type Upstream = { readonly socketPath: string } | { readonly host: string; readonly port: number }

export type ProcessState = 'starting' | 'running' | 'crashed' | 'backoff' | 'stopped'

export interface ProcessStatus {
  readonly instanceId: string
  readonly state: ProcessState
  /** Restarts after crashes since the process was started by a deployment or job. */
  readonly restarts: number
  readonly pid: number | null
  readonly lastExit: {
    readonly code: number | null
    readonly signal: string | null
    readonly at: string
  } | null
  /** Milliseconds until the next restart attempt, in `backoff`. */
  readonly nextRestartInMs: number | null
  /** Resource use against the limits (null: limits are off on this host or the process is not running). */
  readonly usage?: ProcessUsage | null
  /** Times the kernel killed a process of this instance for using more memory than its limit. */
  readonly oomKills?: number
  /** When that last happened (ISO time), or null. */
  readonly lastOomAt?: string | null
}

/** Limits of one process and everything it forks (one instance, one job, one build, one service). */
export interface ProcessLimits {
  /** Memory (resident and swap) before the kernel kills the largest process of the group. */
  readonly memoryBytes: number
  /** CPU time per period, microseconds (quota / period = CPUs). */
  readonly cpuQuotaUs: number
  readonly cpuPeriodUs: number
  /** Processes and threads. */
  readonly pidsMax: number
}

export interface ProcessUsage {
  readonly memoryBytes: number
  readonly memoryLimitBytes: number
  /** CPU time used since the process started, microseconds. */
  readonly cpuUsageUs: number
  /** Average CPUs used over the last few seconds (1 = one core busy). */
  readonly cpuRecent: number | null
  readonly pids: number
  readonly pidsMax: number
}

/** Whether resource limits are enforced on this host, and how. */
export interface LimitsReport {
  readonly mode: 'cgroup-v1' | 'cgroup-v2' | 'none'
  readonly summary: string
}

export type OutputSink = (stream: 'stdout' | 'stderr', text: string) => void

export interface ProcessSpec {
  readonly environmentId: string
  /** Unique per start; two instances of one release may run side by side during a switch. */
  readonly instanceId: string
  readonly cwd: string
  readonly argv: readonly string[]
  /** The environment's variables; the driver adds PORT, HOME and PATH. */
  readonly env: Readonly<Record<string, string>>
  readonly onOutput: OutputSink
  /** Put first on PATH: the bin directory of the runtime version the release pins (default: the host's node). */
  readonly binDir?: string
  /** Persistent directories (relative to the release), shown read-write over the read-only release. */
  readonly persistentDirs?: readonly string[]
  /** Memory, CPU and process limits (src/deploy/sizing.ts); none: unlimited. */
  readonly limits?: ProcessLimits
  /** The release it runs and the deployment that started it: kept in the process record (reconcile). */
  readonly release?: number | null
  readonly deploymentId?: string | null
}

/** An app instance a previous control plane started that still runs (verified by pid and start time). */
export interface RecordedInstance {
  readonly environmentId: string
  readonly instanceId: string
  readonly release: number | null
  readonly deploymentId: string | null
  readonly startedAt: string
}

/** A process the platform started that was stopped because nothing should run it (reconcile, doctor). */
export interface StoppedProcess {
  readonly pid: number
  readonly environmentId: string
  readonly instanceId: string
  readonly role: string
  readonly why: 'unwanted' | 'unrecorded'
}

export interface RunningProcess {
  readonly instanceId: string
  readonly upstream: Upstream
  status(): ProcessStatus
  /** Settles when the first spawn exits (a health check races it: an app that dies at start fails at once). */
  readonly firstExit: Promise<{ code: number | null; signal: string | null }>
  /** SIGTERM to the process group, SIGKILL after `graceMs`; stops supervision. */
  stop(graceMs: number): Promise<void>
  /** Applies new limits to the running process at once (a sizing change without a deploy). */
  setLimits?(limits: ProcessLimits): Promise<void>
}

export interface RunSpec {
  readonly environmentId: string
  readonly cwd: string
  readonly argv: readonly string[]
  readonly env: Readonly<Record<string, string>>
  readonly onOutput: OutputSink
  readonly timeoutMs: number
  /**
   * `build`: a network of its own whose only way out is the egress gateway under the build allow list,
   * with `cwd` (the scratch directory) writable; `sandbox`: the environment's own network (jobs), with
   * `cwd` (a release) read-only.
   */
  readonly network: 'build' | 'sandbox'
  /** Put first on PATH: the bin directory of the pinned runtime version (default: the host's node). */
  readonly binDir?: string
  /** Persistent directories (relative to the release), shown read-write (jobs). */
  readonly persistentDirs?: readonly string[]
  /** Memory, CPU and process limits (src/deploy/sizing.ts); none: unlimited. */
  readonly limits?: ProcessLimits
}

export interface RunResult {
  readonly code: number | null
  readonly signal: string | null
  readonly timedOut: boolean
  readonly durationMs: number
  /** The kernel killed a process of the run for exceeding its memory limit. */
  readonly oom?: boolean
}

export interface IsolationReport {
  /** `namespaces`: own user + network namespace per environment; `none`: loopback ports, same user. */
  readonly mode: 'namespaces' | 'none'
  readonly summary: string
}

/** Where an environment's processes may connect out (the tenancy setting; docs/isolation.md). */
export interface EgressSetting {
  readonly app: 'public' | 'none' | readonly string[]
  readonly build: 'registries' | 'public' | 'none' | readonly string[]
}

/** See `DeployDriver.serviceSandbox`: returns the argv to start as root. */
export type ServiceSandboxWrap = (
  argv: readonly string[],
  opts: { readonly cwd: string; readonly daemon: boolean },
) => string[]

export interface DeployDriver {
  readonly name: string
  readonly isolation: IsolationReport
  /** Whether sizing limits are enforced (absent: the driver does not enforce them). */
  readonly limits?: LimitsReport
  /**
   * The argv prefix that runs a service daemon of the environment inside its own limits: the prefix enters the
   * service's cgroup before it execs the rest (root-run, before any tenant-influenced code). Null when limits are off.
   */
  serviceLauncher?(environmentId: string, serviceId: string, limits: ProcessLimits): readonly string[] | null
  /** New limits for the environment's running services, at once (a sizing change). */
  setServiceLimits?(environmentId: string, limits: ProcessLimits): void
  /** Tenant-writable directories, touched only through this (docs/isolation.md). */
  readonly files: TenantFiles
  /** Creates what an environment needs (user, namespace, directories); idempotent. */
  prepareEnvironment(environmentId: string, envDir: string): Promise<void>
  /** Applies the environment's egress setting to new connections of its apps, jobs and builds. */
  setEgress(environmentId: string, setting: EgressSetting): Promise<void>
  /** The environment's system identity (null without isolation). */
  identityOf(environmentId: string): { readonly uid: number; readonly gid: number } | null
  /**
   * Wraps a service command (database server, client, tool) so that it runs in the environment's sandbox
   * with only `<envDir>/services` writable, at its host path; null without isolation. The environment
   * must have been prepared.
   */
  serviceSandbox(environmentId: string): ServiceSandboxWrap | null
  /**
   * Turns the build output in the leaf `builds/<n>` into the read-only release directory `target`
   * (root-owned, readable by the environment): packed by the environment's user, unpacked by the
   * platform with no link followed. Its digest is taken with `digestRelease` once the caller has finished it.
   */
  freezeRelease(environmentId: string, buildRel: string, target: string): Promise<void>
  /** The digest of a frozen release as it is on disk now. */
  digestRelease(dir: string): Promise<string>
  /** Stops the environment's processes and removes its user, namespaces and sandbox files. */
  removeEnvironment(environmentId: string): Promise<void>
  start(spec: ProcessSpec): Promise<RunningProcess>
  run(spec: RunSpec): Promise<RunResult>
  /** Stops every process this driver started. */
  close(graceMs: number): Promise<void>
  /**
   * Crash recovery (docs/crash-safety.md), for drivers whose processes outlive the control plane: the app
   * instances a previous control plane recorded that still run, taking one over (`spec` as for `start`, with
   * the recorded instance id; null when it is gone or incomplete), and stopping everything else the platform
   * started that `keep` (instance ids) does not name.
   */
  recordedInstances?(): Promise<readonly RecordedInstance[]>
  adopt?(spec: ProcessSpec): Promise<RunningProcess | null>
  reap?(keep: ReadonlySet<string>, environmentId?: string): Promise<readonly StoppedProcess[]>
}
