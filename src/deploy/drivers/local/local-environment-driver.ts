import { cpSync, existsSync } from 'node:fs'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { ConflictError, InvalidError, PalisadeError } from '../../../shared/errors.js'
import { probe } from '../../health-check.js'
import type { DeployDriver, RunningProcess } from '../driver.js'
import type {
  EnvironmentDriver,
  EnvironmentStatus,
  EnvironmentTarget,
  JobState,
  ReleaseArtifact,
  ServiceKind,
} from '../environment-driver.js'

/**
 * The environment-level seam (environment-driver.ts) over the local process driver: a release is a
 * directory started as a supervised process, a service a supervised process of its engine, a job a sandboxed
 * run. State lives in memory (the deployer's tables are the record under `local`). Restrictions: egress goes
 * to the local driver's egress gateway; the IP allow list is enforced by the edge, so it is only recorded.
 */
export interface LocalEnvironmentDriverOptions {
  readonly driver: DeployDriver
  readonly dataDir: string
  readonly timeoutMs?: number
}

interface EnvState {
  target: EnvironmentTarget
  releases: ReleaseArtifact[]
  current: { release: ReleaseArtifact; proc: RunningProcess } | null
  services: Map<string, { kind: ServiceKind; proc: RunningProcess }>
  jobs: Map<string, JobState>
}

/** Engines the local seam starts as plain processes (mariadb/postgresql stay with src/services today). */
const LOCAL_ENGINES: Partial<Record<ServiceKind, readonly string[]>> = {
  redis: ['sh', '-c', 'exec redis-server --bind 127.0.0.1 --port "$PORT" --save "" --appendonly no'],
}

export function createLocalEnvironmentDriver(options: LocalEnvironmentDriverOptions): EnvironmentDriver {
  const opts = Object.freeze({ timeoutMs: 30_000, ...options })
  const { driver } = opts
  const envs = new Map<string, EnvState>()
  let seq = 0

  const stateOf = (id: string): EnvState => {
    const s = envs.get(id)
    if (!s) throw new ConflictError('PAL_LOCAL_ENV_UNKNOWN', `environment ${id} was not applied`)
    return s
  }

  const releaseDirOf = (envId: string, n: number): string =>
    path.join(opts.dataDir, 'envs', envId, 'releases', String(n))

  const vars = (t: EnvironmentTarget): Record<string, string> => ({ ...t.variables, ...t.secrets })

  const startRelease = async (s: EnvState, release: ReleaseArtifact, timeoutMs: number): Promise<void> => {
    if (!release.dir) throw new InvalidError('PAL_LOCAL_RELEASE_INVALID', 'a local release needs a directory')
    if (release.argv.length === 0)
      throw new InvalidError('PAL_LOCAL_RELEASE_INVALID', 'a local release needs a command')
    // The artifact (the platform's, read-only) becomes a release of the environment: sandboxes show only
    // their environment's own directories at /app.
    const target = releaseDirOf(s.target.environmentId, release.number)
    if (!existsSync(target)) cpSync(release.dir, target, { recursive: true, verbatimSymlinks: true })
    const proc = await driver.start({
      environmentId: s.target.environmentId,
      instanceId: `ins_${release.number}_${++seq}`,
      cwd: target,
      argv: release.argv,
      env: vars(s.target),
      onOutput: () => undefined,
    })
    let exited = false
    void proc.firstExit.then(() => (exited = true))
    const deadline = Date.now() + timeoutMs
    while (!(await probe(proc.upstream, s.target.healthCheckPath, 'localhost', 1_000))) {
      if (exited || Date.now() > deadline) {
        await proc.stop(1_000)
        throw new PalisadeError(
          'unavailable',
          'PAL_LOCAL_RELEASE_UNHEALTHY',
          `release ${release.number} did not become healthy`,
        )
      }
      await sleep(50)
    }
    const old = s.current
    s.current = { release, proc }
    if (old) await old.proc.stop(5_000)
  }

  return Object.freeze({
    name: 'local' as const,
    async applyEnvironment(t) {
      await driver.prepareEnvironment(t.environmentId, path.join(opts.dataDir, 'envs', t.environmentId))
      const egress = t.egress === 'public' ? 'public' : 'none'
      await driver.setEgress(t.environmentId, { app: egress, build: 'registries' })
      const s = envs.get(t.environmentId)
      if (s) s.target = t
      else
        envs.set(t.environmentId, {
          target: t,
          releases: [],
          current: null,
          services: new Map(),
          jobs: new Map(),
        })
    },
    async deploy(t, release, o = {}) {
      const s = stateOf(t.environmentId)
      s.target = t
      await startRelease(s, release, o.timeoutMs ?? opts.timeoutMs)
      s.releases = [...s.releases.filter((r) => r.number !== release.number), release]
    },
    async rollback(t, o = {}) {
      const s = stateOf(t.environmentId)
      const cur = s.current?.release.number ?? Infinity
      const previous = s.releases.filter((r) => r.number < cur).at(-1)
      if (!previous)
        throw new ConflictError('PAL_LOCAL_NO_EARLIER_RELEASE', 'there is no earlier release to roll back to')
      await startRelease(s, previous, o.timeoutMs ?? opts.timeoutMs)
      return previous.number
    },
    async runJob(t, job) {
      const s = stateOf(t.environmentId)
      if (!s.current?.release.dir)
        throw new ConflictError('PAL_LOCAL_NO_RELEASE', 'a job needs a deployed release')
      s.jobs.set(job.name, 'running')
      const r = await driver.run({
        environmentId: t.environmentId,
        cwd: releaseDirOf(t.environmentId, s.current.release.number),
        argv: job.argv,
        env: vars(t),
        onOutput: () => undefined,
        timeoutMs: job.timeoutMs,
        network: 'sandbox',
      })
      const state: JobState = r.code === 0 && !r.timedOut ? 'succeeded' : 'failed'
      s.jobs.set(job.name, state)
      return state
    },
    async provisionService(t, svc) {
      const s = stateOf(t.environmentId)
      if (s.services.has(svc.name)) return
      const argv = LOCAL_ENGINES[svc.kind]
      if (!argv)
        throw new InvalidError(
          'PAL_LOCAL_SERVICE_KIND',
          `${svc.kind} runs through the services capability under local`,
        )
      const proc = await driver.start({
        environmentId: t.environmentId,
        instanceId: `svc_${svc.name}_${++seq}`,
        // Its working directory (shown read-only at /app) is the environment's own services directory.
        cwd: path.join(opts.dataDir, 'envs', t.environmentId, 'services'),
        argv,
        env: {},
        onOutput: () => undefined,
      })
      s.services.set(svc.name, { kind: svc.kind, proc })
    },
    async removeEnvironment(environmentId) {
      const s = envs.get(environmentId)
      if (s) {
        await s.current?.proc.stop(5_000)
        for (const svc of s.services.values()) await svc.proc.stop(5_000)
      }
      await driver.removeEnvironment(environmentId)
      envs.delete(environmentId)
    },
    async status(environmentId): Promise<EnvironmentStatus> {
      const s = envs.get(environmentId)
      if (!s) {
        return {
          exists: false,
          currentRelease: null,
          releases: [],
          desiredInstances: 0,
          readyInstances: 0,
          services: [],
          jobs: [],
          ipAllow: [],
          egress: 'none',
        }
      }
      const cur = s.current
      const healthy = cur
        ? await probe(cur.proc.upstream, s.target.healthCheckPath, 'localhost', 1_000)
        : false
      return {
        exists: true,
        currentRelease: cur && healthy ? cur.release.number : null,
        releases: s.releases.map((r) => r.number).sort((a, b) => a - b),
        // One process per environment under local: sizing.instances is honoured by #20's work, not here.
        desiredInstances: cur ? 1 : 0,
        readyInstances: healthy ? 1 : 0,
        services: [...s.services].map(([name, v]) => ({
          name,
          kind: v.kind,
          state:
            v.proc.status().state === 'running'
              ? ('running' as const)
              : v.proc.status().state === 'stopped'
                ? ('stopped' as const)
                : ('provisioning' as const),
        })),
        jobs: [...s.jobs].map(([name, state]) => ({ name, state })),
        ipAllow: [...s.target.ipAllow],
        egress: s.target.egress === 'public' ? 'public' : 'none',
      }
    },
    async close() {
      for (const id of [...envs.keys()]) {
        const s = envs.get(id)
        await s?.current?.proc.stop(2_000)
        for (const svc of s?.services.values() ?? []) await svc.proc.stop(2_000)
      }
    },
  } satisfies EnvironmentDriver)
}
