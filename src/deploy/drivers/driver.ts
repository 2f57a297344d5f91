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
}

export interface RunResult {
  readonly code: number | null
  readonly signal: string | null
  readonly timedOut: boolean
  readonly durationMs: number
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

export interface DeployDriver {
  readonly name: string
  readonly isolation: IsolationReport
  /** Tenant-writable directories, touched only through this (docs/isolation.md). */
  readonly files: TenantFiles
  /** Creates what an environment needs (user, namespace, directories); idempotent. */
  prepareEnvironment(environmentId: string, envDir: string): Promise<void>
  /** Applies the environment's egress setting to new connections of its apps, jobs and builds. */
  setEgress(environmentId: string, setting: EgressSetting): Promise<void>
  /** The environment's system identity (null without isolation). */
  identityOf(environmentId: string): { readonly uid: number; readonly gid: number } | null
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
