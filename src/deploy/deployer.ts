import { createHash } from 'node:crypto'
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import { diffChanges } from '../audit/index.js'
import { actorOf, isAllowed, PLATFORM, type Principal } from '../iam/index.js'
import type { EnvironmentsTable } from '../store/index.js'
import type { DeploymentsTable, JobsTable } from './tables.js'
import { saveDeployState, type DeployStatePatch } from './deploy-state.js'
import { PLATFORM_CONTEXT, type RequestContext } from '../shared/context.js'
import { ConflictError, InvalidError, NotFoundError, PalisadeError } from '../shared/errors.js'
import { newId } from '../shared/ids.js'
import { crashPoint } from '../shared/crash-point.js'
import { packRootTree } from '../shared/tenant-files.js'
import { BuildPlanError, parseProcfile, planBuild, preparePersistentMountPoints } from './build-plan.js'
import type { EgressSetting, ProcessStatus, RunningProcess } from './drivers/driver.js'
import { DEPLOY_ERRORS } from './errors.js'
import { assertRef, assertPublicRepository, fetchSource, resolveRepository } from './git-source.js'
import { probe, waitHealthy } from './health-check.js'
import { InstanceHealth, startInstances } from './instances.js'
import { parseSizing, planSizing, type SizingPlan } from './sizing.js'
import { DEFAULT_SIZING } from '../tenancy/index.js'
import { LogStore } from './log-store.js'
import {
  DEFAULT_DEPLOY_OPTIONS,
  JOB_TYPES,
  type Deployment,
  type ClusterReleases,
  type DeployDeps,
  type DeploymentStatus,
  type EnvironmentRuntimeStatus,
  type Job,
  type JobType,
  type PublishedRoute,
  type RouteSink,
} from './types.js'

/** The release an environment serves, as platform work sees it. */
export interface CurrentRelease {
  readonly release: number
  readonly commit: string | null
  /** The exact runtime version it runs on; null when not pinned. */
  readonly runtimeVersion: string | null
  readonly kind: 'process' | 'static'
  readonly deploymentId: string | null
}

/** A failure whose message is safe and useful to show as the deployment's reason. */
class DeployFailure extends Error {}

interface Serving {
  readonly release: number
  readonly deploymentId: string
  /** A static site's target; a process release's target is made from its healthy instances (`targetOf`). */
  readonly target: PublishedRoute['target']
  /** The web processes, one per instance (empty for a static site); scaling changes the list. */
  processes: RunningProcess[]
  readonly dir: string
  /** The pinned runtime's bin directory (null: the host's node). */
  readonly binDir: string | null
  /** The environment's sizing (stored JSON) the instances were started or last scaled with. */
  sizing: string
  /** Starts and health-checks one more instance of this release (scaling); null for a static site. */
  readonly startOne: ((limits: SizingPlan['app']) => Promise<RunningProcess>) | null
}

/** What starting a release needs from its row. */
interface ReleaseSpec {
  readonly number: number
  readonly kind: string
  readonly command: string | null
  readonly static_root: string | null
  readonly digest?: string | null
  readonly runtime_version: string | null
}

interface EnvRuntime {
  tail: Promise<void>
  waiting: number
  serving: Serving | null
}

const MAX_COMMAND = 4096
/** flush-cache in a cluster image: the Procfile's `flush-cache:` line, else the package.json script. */
const CLUSTER_FLUSH_ARGV = [
  '/bin/sh',
  '-c',
  'l=$(sed -n "s/^flush-cache:[[:space:]]*//p" Procfile 2>/dev/null | head -n1); if [ -n "$l" ]; then exec /bin/sh -c "$l"; fi; exec npm run palisade:flush-cache',
]
/** How often the health of running instances is re-checked, ms. */
const INSTANCE_CHECK_MS = 1_000
/** An adopted instance answered before the restart: it gets this long to answer again, ms. */
const ADOPT_HEALTH_TIMEOUT_MS = 3_000
/** What a deployment or job cut short by a crash or stop of the control plane reads as its reason. */
export const INTERRUPTED_REASON = 'interrupted by a control-plane restart'

function toDeployment(r: DeploymentsTable): Deployment {
  return {
    id: r.id,
    environmentId: r.environment_id,
    number: r.number,
    kind: r.kind === 'rollback' || r.kind === 'runtime-update' ? r.kind : 'deploy',
    status: r.status as DeploymentStatus,
    ref: r.ref,
    commit: r.commit,
    release: r.release,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    reason: r.reason,
    runtimeVersion: r.runtime_version,
  }
}

function toJob(r: JobsTable): Job {
  return {
    id: r.id,
    environmentId: r.environment_id,
    type: r.type as JobType,
    command: r.command,
    status: r.status as Job['status'],
    exitCode: r.exit_code,
    reason: r.reason,
    createdAt: r.created_at,
    finishedAt: r.finished_at,
  }
}

/** A job without its command text (a command line may carry secrets passed inline; the audit log omits it too). */
function withoutCommand(job: Job): Job {
  return { ...job, command: null }
}

function encodeCursor(n: number): string {
  return Buffer.from(String(n)).toString('base64url')
}

function decodeCursor(cursor: string): number {
  const n = Number(Buffer.from(cursor, 'base64url').toString())
  if (!Number.isInteger(n) || n < 0)
    throw new InvalidError(DEPLOY_ERRORS.invalidField, 'cursor is not valid', {
      details: [{ field: 'cursor', message: 'not valid' }],
    })
  return n
}

const notFound = (what: string): NotFoundError =>
  new NotFoundError(DEPLOY_ERRORS.notFound, `${what} not found`, { publicCode: 'not_found' })

/**
 * Deployments, rollbacks, jobs and the routes they publish. Work on one environment is serialised
 * (a second deployment queues behind the first); different environments build in parallel.
 */
export function createDeployer(deps: DeployDeps) {
  const { db, audit, clock, tenancy, driver } = deps
  const opts: typeof DEFAULT_DEPLOY_OPTIONS = Object.freeze({ ...DEFAULT_DEPLOY_OPTIONS, ...deps.options })
  const logs = new LogStore(path.join(deps.dataDir, 'logs'), { capBytes: opts.logCapBytes })
  const runtimes = new Map<string, EnvRuntime>()
  let sink: RouteSink | null = null
  let closing = false
  let reconciled = false
  const now = (): string => clock.now().toISOString()
  // What was queued or running before this control plane started is what `resume` calls interrupted: the
  // API may already take new deployments while `serve` is still starting services.
  const bootedAt = now()
  const envDirOf = (envId: string): string => path.join(deps.dataDir, 'envs', envId)
  const releaseDirOf = (envId: string, n: number): string => path.join(envDirOf(envId), 'releases', String(n))
  const sizingOf = (env: EnvironmentsTable): SizingPlan => planSizing(parseSizing(env.sizing, DEFAULT_SIZING))
  const health = new InstanceHealth()
  // Instances that crash leave the edge's rotation, and come back once they answer their health check again.
  const monitor = setInterval(() => void checkInstances(), INSTANCE_CHECK_MS)
  monitor.unref()
  let checking = false
  async function checkInstances(): Promise<void> {
    if (checking || closing) return
    checking = true
    try {
      for (const [envId, rt] of runtimes) {
        const serving = rt.serving
        if (!serving || serving.processes.length === 0) continue
        const env = await envRow(envId)
        if (!env) continue
        const changed = await health.check(serving.processes, (u) =>
          probe(u, env.health_check_path, env.host, 2_000),
        )
        if (changed && runtimes.get(envId)?.serving === serving) await publish(envId)
      }
    } catch (err) {
      deps.logger?.error({ err }, 'checking instances failed')
    } finally {
      checking = false
    }
  }

  function instanceStatuses(envId: string): Array<ProcessStatus & { readonly healthy: boolean }> {
    return (runtimes.get(envId)?.serving?.processes ?? []).map((p) => ({
      ...p.status(),
      healthy: health.isHealthy(p),
    }))
  }

  /** Where the edge sends the environment's requests: its healthy instances, or a static root. */
  function targetOf(serving: Serving | null | undefined): PublishedRoute['target'] {
    if (!serving) return { kind: 'none' }
    if (serving.processes.length === 0) return serving.target
    const upstreams = health.upstreams(serving.processes)
    return { kind: 'proxy', upstream: upstreams[0] ?? serving.processes[0]!.upstream, upstreams }
  }

  /** Whether the caller may read job command text and output in this environment (`job.read`). */
  const mayReadJobs = (principal: Principal, env: EnvironmentsTable): Promise<boolean> =>
    isAllowed(db, principal, 'job.read', {
      type: 'environment',
      workspaceId: env.workspace_id,
      criticality: env.criticality,
    })

  function runtimeOf(envId: string): EnvRuntime {
    let rt = runtimes.get(envId)
    if (!rt) runtimes.set(envId, (rt = { tail: Promise.resolve(), waiting: 0, serving: null }))
    return rt
  }

  /** Runs `work` after everything already queued for the environment. */
  function enqueue(envId: string, work: () => Promise<void>): void {
    const rt = runtimeOf(envId)
    rt.waiting++
    rt.tail = rt.tail.then(async () => {
      rt.waiting--
      if (closing) return
      try {
        await work()
      } catch (err) {
        deps.logger?.error({ err, environmentId: envId }, 'deploy work failed unexpectedly')
      }
    })
  }

  function assertRoom(envId: string): void {
    if (runtimeOf(envId).waiting >= opts.maxQueued) {
      throw new ConflictError(
        DEPLOY_ERRORS.queueFull,
        `at most ${opts.maxQueued} deployments and jobs may wait per environment`,
        { publicCode: 'queue_full' },
      )
    }
  }

  async function envRow(envId: string): Promise<EnvironmentsTable | undefined> {
    return db.selectFrom('environments').selectAll().where('id', '=', envId).executeTakeFirst()
  }

  // ---------------------------------------------------------------- routes

  async function ipAllowOf(
    envId: string,
    workspaceId: string,
  ): Promise<{ ipAllow: string[]; basicAuth: PublishedRoute['access']['basicAuth'] }> {
    const access = await db
      .selectFrom('environment_access')
      .selectAll()
      .where('environment_id', '=', envId)
      .executeTakeFirst()
    if (!access) return { ipAllow: [], basicAuth: null }
    const ipAllow = JSON.parse(access.ip_allow) as string[]
    const groups = JSON.parse(access.ip_groups) as string[]
    if (groups.length > 0) {
      const rows = await db
        .selectFrom('ip_groups')
        .select(['id', 'cidrs'])
        .where('workspace_id', '=', workspaceId)
        .where('id', 'in', groups)
        .execute()
      for (const r of rows) ipAllow.push(...(JSON.parse(r.cidrs) as string[]))
      // A group that vanished must not turn the restriction off: an empty merged list would mean "everyone".
      if (ipAllow.length === 0) ipAllow.push('255.255.255.255/32')
    }
    const basicAuth =
      access.basic_username && access.basic_password_hash
        ? { username: access.basic_username, passwordHash: access.basic_password_hash }
        : null
    return { ipAllow: [...new Set(ipAllow)], basicAuth }
  }

  /**
   * What an environment's processes see: its services' connection variables (DATABASE_URL, REDIS_URL, ...)
   * first, then its own variables, so a customer can still override one on purpose.
   */
  async function environmentVariables(envId: string): Promise<Record<string, string>> {
    const fromServices = deps.serviceVariables ? await deps.serviceVariables(envId) : {}
    return { ...fromServices, ...(await tenancy.variables.resolve(envId)) }
  }

  /**
   * What a log line of the environment's processes may not show: its secret variables' values and its
   * services' passwords (the connection variables hold them), replaced by a mask before they reach disk.
   */
  async function secretMasker(envId: string): Promise<(text: string) => string> {
    const fromServices = deps.serviceVariables ? await deps.serviceVariables(envId) : {}
    const passwords = Object.values(fromServices).flatMap((v) => {
      try {
        const u = new URL(v)
        return u.password ? [decodeURIComponent(u.password), u.password] : []
      } catch {
        return []
      }
    })
    const values = [...(await tenancy.secretValues.read(envId)), ...passwords]
      .filter((v) => v.length >= 4)
      .sort((a, b) => b.length - a.length)
    if (values.length === 0) return (t) => t
    return (text) => {
      let out = text
      for (const v of values) if (out.includes(v)) out = out.split(v).join('••••••')
      return out
    }
  }

  /** Builds the environment's route from the store and the serving release, and hands it to the edge. */
  async function publish(envId: string): Promise<PublishedRoute | null> {
    const env = await envRow(envId)
    if (!env) {
      sink?.remove(envId)
      return null
    }
    const [state, domains, access, waf] = await Promise.all([
      db.selectFrom('deploy_states').selectAll().where('environment_id', '=', envId).executeTakeFirst(),
      db
        .selectFrom('environment_domains')
        .select('name')
        .where('environment_id', '=', envId)
        .orderBy('name')
        .execute(),
      ipAllowOf(envId, env.workspace_id),
      deps.wafSettings ? deps.wafSettings(envId) : Promise.resolve({}),
    ])
    // The egress setting takes effect with the route: at every deploy, restart and settings change (in a
    // cluster, the environment's NetworkPolicies carry it).
    if (!deps.cluster)
      await driver
        .setEgress(envId, egressOf(env))
        .catch((err: unknown) =>
          deps.logger?.error({ err, environmentId: envId }, 'applying the egress setting failed'),
        )
    const route: PublishedRoute = {
      environmentId: envId,
      workspaceId: env.workspace_id,
      hosts: [env.host, ...domains.map((d) => d.name)],
      target:
        deps.cluster && state?.current_release != null
          ? { kind: 'proxy', upstream: deps.cluster.upstream(envId) }
          : targetOf(runtimes.get(envId)?.serving),
      maintenance: state?.maintenance === 1,
      access,
      throttle: throttleOf(env) ?? opts.throttle,
      waf,
      httpsRedirect: false,
      hsts: false,
    }
    try {
      sink?.upsert(route)
    } catch (err) {
      deps.logger?.error({ err, environmentId: envId }, 'the edge refused the route')
    }
    // A sizing change takes effect without a deploy: the running release is scaled (queued like any work).
    const serving = runtimes.get(envId)?.serving
    if (serving && serving.startOne !== null && serving.sizing !== env.sizing) {
      serving.sizing = env.sizing
      enqueue(envId, () => applySizing(envId))
    }
    return route
  }

  const saveState = (envId: string, patch: DeployStatePatch): Promise<void> =>
    saveDeployState(db, envId, patch, now())

  // ---------------------------------------------------------------- processes

  /**
   * The bin directory of a pinned runtime version, installed if it is not (a rollback to a release whose
   * version was removed). A failed install fails the deployment with the installer's reason.
   */
  async function prepareRuntime(version: string, logKey: string, quiet = false): Promise<string> {
    const pins = deps.runtimePins
    if (!pins) throw new DeployFailure(`node ${version} is pinned but runtime pinning is off`)
    const started = Date.now()
    let result: { binDir: string; cached: boolean }
    try {
      result = await pins.prepare(version)
    } catch (err) {
      throw new DeployFailure(
        `installing node ${version} failed: ${err instanceof Error ? err.message : 'error'}; nothing was changed`,
      )
    }
    if (!result.cached)
      logs.note(logKey, `node ${version} installed from the npm registry in ${Date.now() - started} ms`)
    else if (!quiet) logs.note(logKey, `node ${version} is installed already`)
    return result.binDir
  }

  /** Where a release's processes find `node`: its pinned version, or the host's when it pins none. */
  async function binDirOf(release: ReleaseSpec, logKey: string): Promise<string | null> {
    if (release.runtime_version === null) return null
    if (!deps.runtimePins) {
      logs.note(
        logKey,
        `release ${release.number} pins node ${release.runtime_version}, but runtime pinning is off: it runs on this host's node ${process.versions.node}`,
      )
      return null
    }
    return prepareRuntime(release.runtime_version, logKey, true)
  }

  async function startRelease(
    env: EnvironmentsTable,
    release: ReleaseSpec,
    logKey: string,
    /** An instance a previous control plane started for this release: taken over if it still runs and answers. */
    adoptInstance?: string,
  ): Promise<Serving> {
    const dir = releaseDirOf(env.id, release.number)
    if (!existsSync(dir)) throw new DeployFailure(`release ${release.number} is no longer on disk`)
    if (release.kind === 'static') {
      return {
        release: release.number,
        deploymentId: logKey,
        target: { kind: 'static', root: path.join(dir, release.static_root ?? '.') },
        processes: [],
        dir,
        binDir: null,
        sizing: env.sizing,
        startOne: null,
      }
    }
    const binDir = await binDirOf(release, logKey)
    const argv = JSON.parse(release.command ?? '[]') as string[]
    const variables = await environmentVariables(env.id)
    const mask = await secretMasker(env.id)
    const plan = sizingOf(env)
    const spec = {
      environmentId: env.id,
      cwd: dir,
      argv,
      env: variables,
      onOutput: (_stream: 'stdout' | 'stderr', text: string) => logs.append(logKey, mask(text)),
      persistentDirs: JSON.parse(env.persistent_dirs) as string[],
      release: release.number,
      deploymentId: logKey,
      ...(binDir === null ? {} : { binDir }),
    }
    /** Instances a previous control plane started for this release and that still answer: taken over. */
    const adopted: RunningProcess[] = []
    if (adoptInstance !== undefined && driver.adopt) {
      const proc = await driver.adopt({ ...spec, instanceId: adoptInstance, limits: plan.app })
      if (proc) {
        // It already served before the restart: it has to answer at once, or it is replaced.
        const answered = await waitHealthy({
          upstream: proc.upstream,
          path: env.health_check_path,
          host: env.host,
          timeoutMs: ADOPT_HEALTH_TIMEOUT_MS,
          exited: proc.firstExit,
        })
        if (answered.ok) {
          health.markHealthy(proc)
          logs.note(
            logKey,
            `control plane restarted: instance ${adoptInstance} of release ${release.number} adopted`,
          )
          adopted.push(proc)
        } else {
          logs.note(
            logKey,
            `the running instance of release ${release.number} does not answer (${answered.reason}): replaced`,
          )
          await proc.stop(opts.stopGraceMs)
        }
      }
    }
    if (adopted.length < plan.instances)
      logs.note(
        logKey,
        `starting release ${release.number}${release.runtime_version && binDir ? ` on node ${release.runtime_version}` : ''}${plan.instances > 1 ? ` × ${plan.instances - adopted.length} instances` : ''}: ${argv.join(' ')}`,
      )
    /** One instance, started and health-checked; stopped again when its health check fails. */
    const startOne = async (limits: SizingPlan['app']): Promise<RunningProcess> => {
      const proc = await driver.start({ ...spec, instanceId: newId('ins'), limits })
      const result = await waitHealthy({
        upstream: proc.upstream,
        path: env.health_check_path,
        host: env.host,
        timeoutMs: opts.healthTimeoutMs,
        exited: proc.firstExit,
        onWaiting: (ms, answer) =>
          logs.note(
            logKey,
            `waiting for the health check GET ${env.health_check_path}: ${Math.round(ms / 1000)} s of ${Math.round(opts.healthTimeoutMs / 1000)} s, last answer ${answer}`,
          ),
      })
      if (!result.ok) {
        await proc.stop(opts.stopGraceMs)
        throw new DeployFailure(result.reason)
      }
      health.markHealthy(proc)
      logs.note(logKey, `health check GET ${env.health_check_path} passed after ${result.ms} ms`)
      return proc
    }
    const processes = [
      ...adopted,
      ...(await startInstances(
        Math.max(0, plan.instances - adopted.length),
        () => startOne(plan.app),
        (p) => p.stop(opts.stopGraceMs),
      )),
    ]
    return {
      release: release.number,
      deploymentId: logKey,
      target: { kind: 'proxy', upstream: processes[0]!.upstream },
      processes,
      dir,
      binDir,
      sizing: env.sizing,
      startOne,
    }
  }

  /**
   * Brings the running release to the environment's sizing without a deploy: new limits for the running
   * instances at once, new instances started and health-checked before the edge sends them requests,
   * surplus ones taken off the edge first and stopped after the drain.
   */
  async function applySizing(envId: string): Promise<void> {
    const env = await envRow(envId)
    const serving = runtimes.get(envId)?.serving
    if (!env || !serving || serving.startOne === null) return
    serving.sizing = env.sizing
    const plan = sizingOf(env)
    for (const p of serving.processes) {
      try {
        await p.setLimits?.(plan.app)
      } catch (err) {
        // On cgroup v1 a memory limit below what the instance uses now is refused (EBUSY): it keeps the old one.
        logs.note(
          serving.deploymentId,
          `the new limits could not be applied to instance ${p.instanceId} (${(err as NodeJS.ErrnoException).code ?? 'error'}); they apply when it restarts`,
        )
      }
    }
    try {
      driver.setServiceLimits?.(envId, plan.service)
    } catch (err) {
      deps.logger?.error({ err, environmentId: envId }, 'resizing the services failed')
    }
    const have = serving.processes.length
    if (plan.instances === have) return
    logs.note(serving.deploymentId, `scaling from ${have} to ${plan.instances} instances (no deploy)`)
    if (plan.instances > have) {
      try {
        const added = await startInstances(
          plan.instances - have,
          () => serving.startOne!(plan.app),
          (p) => p.stop(opts.stopGraceMs),
        )
        // The release may have been replaced meanwhile: then the new instances are not needed.
        if (runtimes.get(envId)?.serving !== serving) {
          await Promise.all(added.map((p) => p.stop(opts.stopGraceMs)))
          return
        }
        serving.processes = [...serving.processes, ...added]
      } catch (err) {
        logs.note(
          serving.deploymentId,
          `scaling up failed: ${err instanceof Error ? err.message : 'error'}; ${have} instances keep serving`,
        )
        return
      }
      await publish(envId)
      return
    }
    const surplus = serving.processes.slice(plan.instances)
    serving.processes = serving.processes.slice(0, plan.instances)
    await publish(envId)
    await deps.edgeApplied?.()
    await new Promise((r) => setTimeout(r, opts.drainMs))
    await Promise.all(surplus.map((p) => p.stop(opts.stopGraceMs)))
  }

  /** Switches the edge to `next`, then lets the old release drain and stops it. */
  async function switchTo(envId: string, next: Serving, logKey: string): Promise<void> {
    const rt = runtimeOf(envId)
    const old = rt.serving
    rt.serving = next
    await saveState(envId, { current_release: next.release, current_deployment_id: next.deploymentId })
    crashPoint('deploy.switch-saved')
    await publish(envId)
    // Every edge worker serves the new release before the switch counts as done and the old one drains.
    await deps.edgeApplied?.()
    logs.note(logKey, `the edge now routes to release ${next.release}`)
    if (old && old !== next) {
      void (async () => {
        await new Promise((r) => setTimeout(r, opts.drainMs))
        await Promise.all(old.processes.map((p) => p.stop(opts.stopGraceMs)))
        if (old.deploymentId !== next.deploymentId) logs.end(old.deploymentId)
      })()
    }
  }

  async function pruneReleases(envId: string): Promise<void> {
    const keep = await db
      .selectFrom('releases')
      .select('number')
      .where('environment_id', '=', envId)
      .where('removed', '=', 0)
      .orderBy('number', 'desc')
      .limit(opts.keepReleases)
      .execute()
    const kept = new Set(keep.map((r) => r.number))
    const serving = runtimes.get(envId)?.serving?.release
    if (serving !== undefined) kept.add(serving)
    const root = path.join(envDirOf(envId), 'releases')
    if (!existsSync(root)) return
    for (const name of readdirSync(root)) {
      const n = Number(name)
      if (!Number.isInteger(n) || kept.has(n)) continue
      rmSync(path.join(root, name), { recursive: true, force: true })
      await db
        .updateTable('releases')
        .set({ removed: 1 })
        .where('environment_id', '=', envId)
        .where('number', '=', n)
        .execute()
    }
  }

  // ---------------------------------------------------------------- deployments

  /**
   * Removes an environment's directory: the tenant's leaves through the driver (as the environment's
   * user), then the root-owned rest, then its user and namespaces.
   */
  async function removeEnvironmentTree(envId: string): Promise<void> {
    const envDir = envDirOf(envId)
    if (existsSync(envDir) && driver.identityOf(envId) !== null) {
      await driver.prepareEnvironment(envId, envDir)
      for (const rel of tenantLeavesOf(envDir)) await driver.files.remove(envId, rel)
    }
    crashPoint('environment.files-removed')
    // Processes, user and namespaces before the directory: the directory is what the deletion sweep at the
    // next start lists, so a control plane dying half-way leaves it there to finish the rest (by then no
    // process of the environment's user runs, and nothing steers the root removal below).
    await driver.removeEnvironment(envId)
    crashPoint('environment.identity-removed')
    rmSync(envDir, { recursive: true, force: true })
  }

  async function setStatus(id: string, patch: Partial<DeploymentsTable>): Promise<void> {
    await db.updateTable('deployments').set(patch).where('id', '=', id).execute()
  }

  /**
   * A runtime update builds the code of an existing release again, without fetching: the frozen release
   * (root-owned, unchanged since it was built: its digest is checked) is packed by the platform and
   * unpacked into the build's scratch directory by the environment's user.
   */
  async function copyRelease(
    dep: DeploymentsTable,
    env: EnvironmentsTable,
    scratch: string,
  ): Promise<string | null> {
    const from = dep.source_release ?? -1
    const row = await db
      .selectFrom('releases')
      .select(['commit', 'removed', 'digest'])
      .where('environment_id', '=', env.id)
      .where('number', '=', from)
      .executeTakeFirst()
    const src = releaseDirOf(env.id, from)
    if (!row || row.removed === 1 || !existsSync(src))
      throw new DeployFailure(`release ${from} is no longer on disk`)
    await verifyRelease(from, src, row.digest)
    const started = Date.now()
    try {
      await driver.files.unpack(env.id, scratch, packRootTree(src))
    } catch (err) {
      throw new DeployFailure(
        `copying release ${from} failed: ${err instanceof Error ? err.message.slice(0, 300) : 'error'}`,
      )
    }
    logs.note(
      dep.id,
      `release ${from} (commit ${row.commit ?? '?'}) copied in ${Date.now() - started} ms: same code, built again on the new runtime`,
    )
    return row.commit
  }

  /** Refuses a release whose tree is not the one that was built (changed on disk since). */
  async function verifyRelease(n: number, dir: string, digest: string | null | undefined): Promise<void> {
    if (!digest) throw new DeployFailure(`release ${n} was built before releases were frozen; deploy again`)
    const now = await driver.digestRelease(dir)
    if (now !== digest) {
      deps.logger?.error({ release: n, dir }, 'a release changed on disk after it was built')
      throw new DeployFailure(`release ${n} changed on disk since it was built; it is not started`)
    }
  }

  /** The exact runtime version of this build (null: not pinned) and where its `node` is. */
  async function pinRuntime(
    dep: DeploymentsTable,
    env: EnvironmentsTable,
  ): Promise<{ version: string; binDir: string } | null> {
    const pins = deps.runtimePins
    if (!pins) {
      if (env.runtime.startsWith('node@'))
        logs.note(
          dep.id,
          `runtime pinning is off (PALISADE_RUNTIME_PINNING=off): ${env.runtime} builds and runs on this host's node ${process.versions.node}`,
        )
      return null
    }
    let version: string | null
    try {
      version = dep.runtime_version ?? pins.resolve(env.runtime)
    } catch (err) {
      throw new DeployFailure(`runtime ${env.runtime}: ${err instanceof Error ? err.message : 'no version'}`)
    }
    if (version === null) return null
    await setStatus(dep.id, { runtime_version: version })
    logs.note(dep.id, `runtime ${env.runtime}: node ${version}`)
    return { version, binDir: await prepareRuntime(version, dep.id) }
  }

  async function runBuild(
    dep: DeploymentsTable,
    env: EnvironmentsTable,
  ): Promise<ReleaseSpec & { commit: string | null }> {
    const scratch = `builds/${dep.number}`
    await driver.files.remove(env.id, scratch)
    await driver.files.makeDir(env.id, scratch)
    const commit =
      dep.kind === 'runtime-update'
        ? await copyRelease(dep, env, scratch)
        : await fetchRelease(dep, env, scratch)
    const runtime = await pinRuntime(dep, env)
    try {
      return await buildRelease(dep, env, scratch, commit, runtime)
    } finally {
      await driver.files
        .remove(env.id, scratch)
        .catch((err: unknown) =>
          deps.logger?.warn({ err, environmentId: env.id }, 'removing a build scratch directory failed'),
        )
    }
  }

  /**
   * Fetches the source as root into a root-private work directory (no tenant can reach it), then hands
   * the tree to the environment's user, who unpacks it into the build's scratch directory.
   */
  async function fetchRelease(
    dep: DeploymentsTable,
    env: EnvironmentsTable,
    scratch: string,
  ): Promise<string> {
    const key = dep.id
    const project = await db
      .selectFrom('projects')
      .select(['repository'])
      .where('id', '=', env.project_id)
      .executeTakeFirst()
    // Pushed code lives in the platform's own bare repository (git push over HTTP); it is used for
    // push deployments, and for every deployment of a project without a repository of its own.
    const pushed = path.join(deps.dataDir, 'git', env.workspace_id, `${env.project_id}.git`)
    let source: { url: string; display: string }
    if (dep.kind === 'push' || (!project?.repository && existsSync(pushed))) {
      source = { url: 'file://' + pushed, display: 'the pushed repository' }
    } else {
      if (!project?.repository)
        throw new DeployFailure('the project has no repository (set one, or git push to it)')
      try {
        source = resolveRepository(project.repository, {
          localRoots: deps.gitLocalRoots,
          dataDir: deps.dataDir,
        })
      } catch (err) {
        throw new DeployFailure(err instanceof Error ? err.message : 'repository refused')
      }
    }
    const ref = dep.kind === 'push' && dep.commit ? dep.commit : (dep.ref ?? env.branch)
    const work = path.join(deps.dataDir, 'work', dep.id)
    rmSync(work, { recursive: true, force: true })
    mkdirSync(work, { recursive: true, mode: 0o700 })
    const started = Date.now()
    logs.note(key, `fetching ${source.display} at ${ref}`)
    let commit: string
    try {
      // A remote repository is reached only at a public address, the one checked (DNS rebinding).
      const pin = source.url.startsWith('https://') ? await assertPublicRepository(source.url) : null
      commit = await fetchSource({
        url: source.url,
        ref,
        dir: path.join(work, 'src'),
        home: path.join(work, 'home'),
        timeoutMs: opts.buildTimeoutMs,
        onOutput: (t) => logs.append(key, t),
        ...(pin ? { resolvePin: pin } : {}),
      })
      await driver.files.unpack(env.id, scratch, packRootTree(path.join(work, 'src')))
    } catch (err) {
      throw new DeployFailure(`fetching ${ref} failed: ${err instanceof Error ? err.message : 'git error'}`)
    } finally {
      rmSync(work, { recursive: true, force: true })
    }
    logs.note(key, `commit ${commit} fetched in ${Date.now() - started} ms`)
    await setStatus(dep.id, { commit })
    return commit
  }

  /**
   * Runs the build steps as the environment's user in the scratch directory (a network of its own: the
   * package registries only), freezes the output into a read-only, root-owned release, and only then
   * decides, from the frozen release, how it starts and what the edge serves.
   */
  async function buildRelease(
    dep: DeploymentsTable,
    env: EnvironmentsTable,
    scratch: string,
    commit: string | null,
    runtime: { version: string; binDir: string } | null,
  ): Promise<ReleaseSpec & { commit: string | null; digest: string }> {
    const key = dep.id
    const scratchDir = path.join(envDirOf(env.id), scratch)
    let plan
    try {
      // Nothing of the tenant runs yet: the scratch directory is read as the fetch left it.
      plan = planBuild(scratchDir, env.runtime, runtime?.version ?? null)
    } catch (err) {
      if (err instanceof BuildPlanError) throw new DeployFailure(err.message)
      throw err
    }
    const variables = await environmentVariables(env.id)
    const mask = await secretMasker(env.id)
    for (const step of plan.steps) {
      logs.note(key, `$ ${step.join(' ')}`)
      const r = await driver.run({
        environmentId: env.id,
        cwd: scratchDir,
        argv: step,
        env: variables,
        onOutput: (_s, t) => logs.append(key, mask(t)),
        timeoutMs: opts.buildTimeoutMs,
        network: 'build',
        limits: sizingOf(env).build,
        ...(runtime ? { binDir: runtime.binDir } : {}),
      })
      logs.note(
        key,
        `exit ${r.code ?? r.signal ?? '?'} after ${r.durationMs} ms${r.timedOut ? ' (timed out)' : ''}`,
      )
      if (r.code !== 0)
        throw new DeployFailure(
          `build step "${step.join(' ')}" ${r.timedOut ? 'timed out' : r.oom === true ? `ran out of memory (the build's limit is ${Math.round(sizingOf(env).build.memoryBytes / 1024 ** 2)} MB)` : `failed with exit code ${r.code ?? r.signal ?? '?'}`}`,
        )
    }
    const dir = releaseDirOf(env.id, dep.number)
    const frozeAt = Date.now()
    let digest: string
    let final
    try {
      await driver.freezeRelease(env.id, scratch, dir)
      const persistent = JSON.parse(env.persistent_dirs) as string[]
      for (const n of preparePersistentMountPoints(dir, persistent)) logs.note(key, n)
      for (const d of persistent) await driver.files.makeDir(env.id, `shared/${d}`)
      // Taken once the release is final (mount points included): what a rollback will compare against.
      digest = await driver.digestRelease(dir)
      final = planBuild(dir, env.runtime, runtime?.version ?? null)
    } catch (err) {
      rmSync(dir, { recursive: true, force: true })
      if (err instanceof BuildPlanError) throw new DeployFailure(err.message)
      if (err instanceof Error && err.name === 'FreezeError') throw new DeployFailure(err.message)
      throw err
    }
    for (const n of final.notes) logs.note(key, n)
    logs.note(
      key,
      `release ${dep.number} frozen read-only in ${Date.now() - frozeAt} ms (digest ${digest.slice(0, 12)})`,
    )
    return {
      number: dep.number,
      kind: final.kind,
      command: final.start ? JSON.stringify(final.start) : null,
      static_root: final.staticRoot,
      commit,
      digest,
      // Static sites run no runtime: nothing to pin even when the setting names one.
      runtime_version: final.kind === 'process' ? (runtime?.version ?? null) : null,
    }
  }

  /** The kept release a rollback goes back to; the deployment fails when it was removed meanwhile. */
  async function rollbackTarget(environmentId: string, number: number | null | undefined) {
    const row = await db
      .selectFrom('releases')
      .selectAll()
      .where('environment_id', '=', environmentId)
      .where('number', '=', number ?? -1)
      .executeTakeFirst()
    if (!row || row.removed === 1) throw new DeployFailure(`release ${number ?? '?'} is no longer available`)
    return row
  }

  async function runDeployment(id: string): Promise<void> {
    const dep = await db.selectFrom('deployments').selectAll().where('id', '=', id).executeTakeFirst()
    if (!dep || dep.status !== 'queued') return
    const env = await envRow(dep.environment_id)
    if (!env)
      return setStatus(id, { status: 'failed', reason: 'the environment was deleted', finished_at: now() })
    if (deps.cluster) return runClusterDeployment(dep, env, deps.cluster)
    const started = Date.now()
    let builtDir: string | null = null
    try {
      try {
        await driver.prepareEnvironment(env.id, envDirOf(env.id))
        await driver.setEgress(env.id, egressOf(env))
      } catch (err) {
        deps.logger?.error({ err, environmentId: env.id }, 'could not prepare the environment sandbox')
        throw new DeployFailure(
          `the environment's sandbox could not be prepared: ${err instanceof Error ? err.message : 'error'}`,
        )
      }
      let release: ReleaseSpec & { commit: string | null; digest?: string | null }
      if (dep.kind === 'rollback') {
        await setStatus(id, { status: 'deploying', started_at: now() })
        const row = await rollbackTarget(env.id, dep.release)
        await verifyRelease(row.number, releaseDirOf(env.id, row.number), row.digest)
        release = row
        logs.note(
          id,
          `rolling back to release ${row.number} (commit ${row.commit ?? '?'}) without a rebuild; its tree is as built`,
        )
      } else {
        await setStatus(id, { status: 'building', started_at: now() })
        crashPoint('deploy.building')
        builtDir = releaseDirOf(env.id, dep.number)
        release = await runBuild(dep, env)
        crashPoint('deploy.built')
        await setStatus(id, { status: 'deploying', release: release.number })
      }
      crashPoint('deploy.starting')
      const serving = await startRelease(env, release, id)
      crashPoint('deploy.started')
      if (dep.kind !== 'rollback') {
        await db
          .insertInto('releases')
          .values({
            environment_id: env.id,
            number: release.number,
            deployment_id: id,
            commit: release.commit,
            kind: release.kind,
            command: release.command,
            static_root: release.static_root,
            created_at: now(),
            removed: 0,
            runtime_version: release.runtime_version,
            digest: release.digest ?? null,
          })
          .execute()
      }
      builtDir = null
      crashPoint('deploy.recorded')
      await switchTo(env.id, serving, id)
      crashPoint('deploy.switched')
      await setStatus(id, { status: 'succeeded', finished_at: now(), reason: null })
      crashPoint('deploy.succeeded')
      logs.note(id, `deployment ${dep.number} succeeded in ${Date.now() - started} ms`)
      deps.logger?.info(
        { environmentId: env.id, deploymentId: id, release: serving.release },
        `deployment ${dep.number} of ${env.host} succeeded`,
      )
      if (serving.processes.length === 0) logs.end(id)
      await pruneReleases(env.id)
    } catch (err) {
      const reason = err instanceof DeployFailure ? err.message : 'internal error (see the control plane log)'
      if (!(err instanceof DeployFailure))
        deps.logger?.error({ err, deploymentId: id }, 'deployment failed unexpectedly')
      if (builtDir) rmSync(builtDir, { recursive: true, force: true })
      // Say what serves now: the release before, or (a first deployment) nothing.
      const still = await currentReleaseOf(env.id).catch(() => null)
      logs.note(
        id,
        `deployment failed: ${reason}; ${still ? `release ${still.release} keeps serving` : 'nothing was serving before, so nothing serves now'}`,
      )
      await setStatus(id, { status: 'failed', reason, finished_at: now() })
      deps.logger?.warn(
        { environmentId: env.id, deploymentId: id, reason },
        `deployment ${dep.number} of ${env.host} failed (palisade logs ${env.id} --deployment ${id})`,
      )
      logs.end(id)
    }
  }

  async function createDeploymentRow(
    principal: Principal,
    ctx: RequestContext,
    env: EnvironmentsTable,
    kind: 'deploy' | 'rollback' | 'push' | 'runtime-update',
    fields: {
      ref: string | null
      release: number | null
      commit: string | null
      runtimeVersion?: string | null
      sourceRelease?: number
      /** The deployment's id when the caller recorded it beforehand (the runtime scheduler); default: a new one. */
      id?: string
      /** The audit event's changes (runtime updates describe the step); default: the deployment's fields. */
      changes?: Record<string, unknown>
    },
  ): Promise<Deployment> {
    assertRoom(env.id)
    const row = await db.transaction().execute(async (trx) => {
      const last = await trx
        .selectFrom('deployments')
        .select((eb) => eb.fn.max('number').as('n'))
        .where('environment_id', '=', env.id)
        .executeTakeFirst()
      const number = Number(last?.n ?? 0) + 1
      const r: DeploymentsTable = {
        id: fields.id ?? newId('dep'),
        environment_id: env.id,
        workspace_id: env.workspace_id,
        project_id: env.project_id,
        number,
        kind,
        status: 'queued',
        ref: fields.ref,
        commit: fields.commit,
        release: fields.release,
        reason: null,
        created_at: now(),
        started_at: null,
        finished_at: null,
        runtime_version: fields.runtimeVersion ?? null,
        source_release: fields.sourceRelease ?? null,
      }
      await trx.insertInto('deployments').values(r).execute()
      await audit.record(trx, {
        actor: actorOf(principal),
        action:
          kind === 'rollback'
            ? 'environment.rollback'
            : kind === 'runtime-update'
              ? 'environment.runtime.update.start'
              : 'environment.deployment.create',
        target: { type: 'deployment', id: r.id },
        workspaceId: env.workspace_id,
        projectId: env.project_id,
        environmentId: env.id,
        changes: diffChanges(
          null,
          fields.changes
            ? { number, ...fields.changes }
            : kind === 'rollback'
              ? { number, release: fields.release, runtimeVersion: fields.runtimeVersion ?? undefined }
              : {
                  number,
                  ref: fields.ref ?? env.branch,
                  ...(kind === 'push' ? { commit: fields.commit, via: 'git push' } : {}),
                },
        ),
        context: ctx,
      })
      return r
    })
    enqueue(env.id, () => runDeployment(row.id))
    return toDeployment(row)
  }

  // ---------------------------------------------------------------- cluster (PALISADE_DRIVER=kubernetes)

  /** A failure's reason as the deployment shows it: Palisade's own errors are safe to show. */
  const clusterReason = (err: unknown): string =>
    err instanceof DeployFailure || (err instanceof PalisadeError && err.kind !== 'internal')
      ? err.message.slice(0, 1000)
      : 'internal error (see the control plane log)'

  /**
   * A deployment whose release runs in the cluster: an image (the customer's, or built in the cluster from
   * git), rolled out as a Deployment revision; the switch is the finished rollout. A rollback rolls an earlier
   * release's kept spec out again. A failed rollout leaves the previous revision serving.
   */
  async function runClusterDeployment(
    dep: DeploymentsTable,
    env: EnvironmentsTable,
    cluster: ClusterReleases,
  ): Promise<void> {
    const id = dep.id
    const started = Date.now()
    try {
      let number: number
      if (dep.kind === 'rollback') {
        await setStatus(id, { status: 'deploying', started_at: now() })
        const row = await rollbackTarget(env.id, dep.release)
        logs.note(id, `rolling back to release ${row.number}: its kept spec is rolled out again, no rebuild`)
        await cluster.rollBackTo(env.id, row.number)
        number = row.number
      } else {
        await setStatus(id, { status: 'building', started_at: now() })
        if (dep.kind === 'push')
          throw new DeployFailure(
            "git push deployments build on this host; under the kubernetes driver, deploy from the project's https repository",
          )
        const project = await db
          .selectFrom('projects')
          .select(['repository'])
          .where('id', '=', env.project_id)
          .executeTakeFirst()
        let ref = dep.ref ?? env.branch
        if (dep.kind === 'runtime-update') {
          // The same code on the new runtime: its commit when it is known, else the branch.
          const src = await db
            .selectFrom('releases')
            .select(['commit'])
            .where('environment_id', '=', env.id)
            .where('number', '=', dep.source_release ?? -1)
            .executeTakeFirst()
          ref = src?.commit ?? env.branch
        }
        let version: string | null
        try {
          version = dep.runtime_version ?? deps.runtimePins?.resolve(env.runtime) ?? null
        } catch (err) {
          throw new DeployFailure(
            `runtime ${env.runtime}: ${err instanceof Error ? err.message : 'no version'}`,
          )
        }
        if (version !== null) await setStatus(id, { runtime_version: version })
        const release = await cluster.image(
          env.id,
          {
            number: dep.number,
            runtime: env.runtime,
            runtimeVersion: version,
            repository: project?.repository ?? null,
            ref,
          },
          (line) => logs.note(id, line),
        )
        await setStatus(id, { status: 'deploying', release: dep.number })
        logs.note(
          id,
          `rolling out release ${dep.number} (${release.image}); waiting until every instance is ready`,
        )
        await cluster.rollOut(env.id, release)
        await db
          .insertInto('releases')
          .values({
            environment_id: env.id,
            number: dep.number,
            deployment_id: id,
            commit: /^[0-9a-f]{40}$/.test(ref) ? ref : null,
            kind: 'process',
            command: JSON.stringify(release.argv),
            static_root: null,
            created_at: now(),
            removed: 0,
            runtime_version: version,
            digest: null,
          })
          .execute()
        number = dep.number
      }
      await saveState(env.id, { current_release: number, current_deployment_id: id })
      await publish(env.id)
      await setStatus(id, { status: 'succeeded', finished_at: now(), reason: null })
      logs.note(
        id,
        `deployment ${dep.number} succeeded in ${Date.now() - started} ms: release ${number} serves`,
      )
    } catch (err) {
      const reason = clusterReason(err)
      if (!(err instanceof DeployFailure) && !(err instanceof PalisadeError))
        deps.logger?.error({ err, deploymentId: id }, 'deployment failed unexpectedly')
      const still = await currentReleaseOf(env.id).catch(() => null)
      logs.note(
        id,
        `deployment failed: ${reason}; ${still ? `release ${still.release} keeps serving` : 'nothing was serving before, so nothing serves now'}`,
      )
      await setStatus(id, { status: 'failed', reason, finished_at: now() })
    }
    logs.end(id)
  }

  /** A job in the cluster: a restart is a rolling restart; commands run as a Job of the current image. */
  async function runClusterJob(
    job: JobsTable,
    env: EnvironmentsTable,
    cluster: ClusterReleases,
    finish: (ok: boolean, reason: string | null) => Promise<void>,
  ): Promise<void> {
    if ((await currentReleaseOf(env.id)) === null)
      return finish(false, 'the environment has no running release')
    try {
      if (job.type === 'restart') {
        logs.note(job.id, 'rolling restart: new pods of the current release, ready before the old ones stop')
        await cluster.restart(env.id)
        return await finish(true, null)
      }
      const argv = job.type === 'command' ? ['/bin/sh', '-c', job.command ?? ''] : CLUSTER_FLUSH_ARGV
      // Job names are DNS labels: derived from the job's id, unique per environment.
      const name = `job-${createHash('sha256').update(job.id).digest('hex').slice(0, 20)}`
      logs.note(job.id, `running as the cluster Job ${name} (its output: kubectl logs job/${name})`)
      const state = await cluster.runJob(env.id, { name, argv, timeoutMs: opts.jobTimeoutMs })
      await finish(state === 'succeeded', state === 'succeeded' ? null : `the cluster Job ${name} failed`)
    } catch (err) {
      await finish(false, clusterReason(err))
    }
  }

  // ---------------------------------------------------------------- jobs

  async function runJob(id: string): Promise<void> {
    const job = await db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst()
    if (!job || job.status !== 'queued') return
    await db.updateTable('jobs').set({ status: 'running' }).where('id', '=', id).execute()
    const finish = async (
      ok: boolean,
      reason: string | null,
      exitCode: number | null = null,
    ): Promise<void> => {
      logs.note(id, ok ? 'job succeeded' : `job failed: ${reason ?? ''}`)
      await db
        .updateTable('jobs')
        .set({ status: ok ? 'succeeded' : 'failed', reason, exit_code: exitCode, finished_at: now() })
        .where('id', '=', id)
        .execute()
      logs.end(id)
    }
    try {
      const env = await envRow(job.environment_id)
      if (env && deps.cluster) return await runClusterJob(job, env, deps.cluster, finish)
      const serving = runtimes.get(job.environment_id)?.serving
      if (!env || !serving) return await finish(false, 'the environment has no running release')
      if (job.type === 'restart') {
        if (serving.processes.length === 0) return await finish(true, null)
        const rel = await db
          .selectFrom('releases')
          .selectAll()
          .where('environment_id', '=', env.id)
          .where('number', '=', serving.release)
          .executeTakeFirstOrThrow()
        // A restart is a deployment of the same release: new process, health check, switch, drain.
        const next = await startRelease(env, rel, serving.deploymentId)
        crashPoint('job.restart-started')
        await switchTo(env.id, { ...next, deploymentId: serving.deploymentId }, id)
        return await finish(true, null)
      }
      let argv: string[] | null = null
      if (job.type === 'command') argv = ['/bin/sh', '-c', job.command ?? '']
      else argv = flushCommand(serving.dir)
      if (!argv)
        return await finish(
          false,
          'the app declares no flush-cache command (Procfile "flush-cache:" line or package.json script "palisade:flush-cache")',
        )
      logs.note(id, `$ ${job.type === 'command' ? (job.command ?? '') : argv.join(' ')}`)
      const variables = await environmentVariables(env.id)
      const mask = await secretMasker(env.id)
      // The setting as it is now, not as the last route refresh left it (a change may still be on its way).
      await driver.setEgress(env.id, egressOf(env))
      const r = await driver.run({
        environmentId: env.id,
        cwd: serving.dir,
        argv,
        env: variables,
        onOutput: (_s, t) => logs.append(id, mask(t)),
        timeoutMs: opts.jobTimeoutMs,
        network: 'sandbox',
        persistentDirs: JSON.parse(env.persistent_dirs) as string[],
        limits: sizingOf(env).job,
        ...(serving.binDir === null ? {} : { binDir: serving.binDir }),
      })
      logs.note(
        id,
        `exit ${r.code ?? r.signal ?? '?'} after ${r.durationMs} ms${r.timedOut ? ' (timed out)' : ''}`,
      )
      await finish(
        r.code === 0,
        r.code === 0
          ? null
          : r.timedOut
            ? 'the command timed out'
            : r.oom === true
              ? `the command ran out of memory (limit ${Math.round(sizingOf(env).job.memoryBytes / 1024 ** 2)} MB)`
              : `the command exited with code ${r.code ?? r.signal ?? '?'}`,
        r.code,
      )
    } catch (err) {
      if (!(err instanceof DeployFailure)) deps.logger?.error({ err, jobId: id }, 'job failed unexpectedly')
      await finish(false, err instanceof DeployFailure ? err.message : 'internal error')
    }
  }

  function flushCommand(dir: string): string[] | null {
    try {
      const procfile = path.join(dir, 'Procfile')
      if (existsSync(procfile)) {
        const line = parseProcfile(readText(procfile)).get('flush-cache')
        if (line) return ['/bin/sh', '-c', line]
      }
      const pkgFile = path.join(dir, 'package.json')
      if (existsSync(pkgFile)) {
        const pkg = JSON.parse(readText(pkgFile)) as { scripts?: Record<string, unknown> }
        if (typeof pkg.scripts?.['palisade:flush-cache'] === 'string')
          return ['npm', 'run', 'palisade:flush-cache']
      }
    } catch {
      return null
    }
    return null
  }

  async function currentReleaseOf(envId: string): Promise<CurrentRelease | null> {
    const row = await db
      .selectFrom('deploy_states')
      .innerJoin('releases', (j) =>
        j
          .onRef('releases.environment_id', '=', 'deploy_states.environment_id')
          .onRef('releases.number', '=', 'deploy_states.current_release'),
      )
      .select([
        'releases.number',
        'releases.commit',
        'releases.runtime_version',
        'releases.kind',
        'deploy_states.current_deployment_id',
      ])
      .where('deploy_states.environment_id', '=', envId)
      .executeTakeFirst()
    if (!row) return null
    return {
      release: row.number,
      commit: row.commit,
      runtimeVersion: row.runtime_version,
      kind: row.kind === 'static' ? 'static' : 'process',
      deploymentId: row.current_deployment_id,
    }
  }

  // ---------------------------------------------------------------- public

  return {
    logs,
    isolation: driver.isolation,

    /** Connects the edge's route table and publishes every known environment to it. */
    async attachRoutes(routes: RouteSink): Promise<void> {
      sink = routes
      const states = await db.selectFrom('deploy_states').select('environment_id').execute()
      const withDomains = await db
        .selectFrom('environment_domains')
        .select('environment_id')
        .distinct()
        .execute()
      const access = await db.selectFrom('environment_access').select('environment_id').execute()
      const ids = new Set([...states, ...withDomains, ...access].map((r) => r.environment_id))
      for (const id of ids) await publish(id)
    },

    publish,

    /**
     * After a control-plane start, before the edge takes traffic (docs/crash-safety.md): deployments and jobs
     * cut short are settled as the store proves them (past the switch: `succeeded`; before it: `failed`, the
     * previous release serving), and what runs is made to match the store: a recorded instance of each
     * environment's current release that still runs is adopted, everything else the platform started
     * (orphans, superseded releases, duplicates, half-started instances) is stopped. Environments left without
     * a process are started by `resume`.
     */
    async reconcile(): Promise<{ adopted: number; stopped: number }> {
      const t = now()
      const cut = await db
        .selectFrom('deployments')
        .selectAll()
        .where('status', 'in', ['queued', 'building', 'deploying'])
        .where('created_at', '<', bootedAt)
        .execute()
      const states = await db.selectFrom('deploy_states').selectAll().execute()
      const stateOf = new Map(states.map((st) => [st.environment_id, st]))
      for (const d of cut) {
        if (stateOf.get(d.environment_id)?.current_deployment_id === d.id) {
          // The switch was written: the edge routes to this release from now on.
          await setStatus(d.id, { status: 'succeeded', reason: null, finished_at: t })
          logs.note(d.id, `control plane restarted after the switch: deployment ${d.number} succeeded`)
          continue
        }
        await setStatus(d.id, { status: 'failed', reason: INTERRUPTED_REASON, finished_at: t })
        logs.note(d.id, `deployment failed: ${INTERRUPTED_REASON}; the previous release keeps serving`)
        logs.end(d.id)
        if (d.kind !== 'rollback') {
          // A release built by the cut deployment that was never recorded is not kept half-made.
          const row = await db
            .selectFrom('releases')
            .select('number')
            .where('environment_id', '=', d.environment_id)
            .where('number', '=', d.number)
            .executeTakeFirst()
          if (!row) {
            rmSync(releaseDirOf(d.environment_id, d.number), { recursive: true, force: true })
            rmSync(releaseDirOf(d.environment_id, d.number) + '.partial', { recursive: true, force: true })
          }
        }
      }
      await db
        .updateTable('jobs')
        .set({ status: 'failed', reason: INTERRUPTED_REASON, finished_at: t })
        .where('status', 'in', ['queued', 'running'])
        .where('created_at', '<', bootedAt)
        .execute()
      const recorded = driver.recordedInstances ? await driver.recordedInstances() : []
      const keep = new Set<string>()
      const adoptable = new Map<string, string>()
      for (const st of states) {
        if (st.current_release === null || runtimes.get(st.environment_id)?.serving) continue
        const mine = recorded
          .filter((r) => r.environmentId === st.environment_id && r.release === st.current_release)
          .sort((a, b) => (a.startedAt < b.startedAt ? 1 : -1))[0]
        if (mine) {
          keep.add(mine.instanceId)
          adoptable.set(st.environment_id, mine.instanceId)
        }
      }
      const stopped = driver.reap ? await driver.reap(keep) : []
      for (const p of stopped)
        deps.logger?.warn(p, 'stopped a process the platform started that should not run (reconcile)')
      let adopted = 0
      await Promise.all(
        states
          .filter((st) => st.current_release !== null && adoptable.has(st.environment_id))
          .map(async (st) => {
            const env = await envRow(st.environment_id)
            const rel = await db
              .selectFrom('releases')
              .selectAll()
              .where('environment_id', '=', st.environment_id)
              .where('number', '=', st.current_release ?? -1)
              .executeTakeFirst()
            if (!env || !rel) return
            const key = st.current_deployment_id ?? rel.deployment_id
            try {
              await driver.prepareEnvironment(env.id, envDirOf(env.id))
              const serving = await startRelease(env, rel, key, adoptable.get(env.id))
              runtimeOf(env.id).serving = serving
              adopted++
              await publish(env.id)
              deps.logger?.info(
                { environmentId: env.id, release: rel.number },
                `release ${rel.number} of ${env.host} was still running: adopted after the restart`,
              )
            } catch (err) {
              deps.logger?.error({ err, environmentId: env.id }, 'could not take over the current release')
              // Not adopted, so not left running beside the instance `resume` starts.
              await driver.reap?.(new Set(), env.id).catch(() => undefined)
            }
          }),
      )
      reconciled = true
      return { adopted, stopped: stopped.length }
    },

    /**
     * After services started: every environment whose current release does not run yet (not adopted by
     * `reconcile`) starts it again, health-checked before the edge routes to it.
     */
    async resume(): Promise<void> {
      if (!reconciled) await this.reconcile()
      // In a cluster the releases keep running without the control plane (its reconcile puts back drift).
      if (deps.cluster) return
      const states = await db
        .selectFrom('deploy_states')
        .selectAll()
        .where('current_release', 'is not', null)
        .execute()
      for (const s of states) {
        if (runtimes.get(s.environment_id)?.serving) continue
        enqueue(s.environment_id, async () => {
          if (runtimeOf(s.environment_id).serving) return
          const env = await envRow(s.environment_id)
          const rel = await db
            .selectFrom('releases')
            .selectAll()
            .where('environment_id', '=', s.environment_id)
            .where('number', '=', s.current_release ?? -1)
            .executeTakeFirst()
          if (!env || !rel) return
          const key = s.current_deployment_id ?? rel.deployment_id
          try {
            await driver.prepareEnvironment(env.id, envDirOf(env.id))
            logs.note(key, 'control plane restarted: starting the current release again')
            const serving = await startRelease(env, rel, key)
            runtimeOf(env.id).serving = serving
            await publish(env.id)
            deps.logger?.info(
              { environmentId: env.id, release: rel.number },
              `release ${rel.number} of ${env.host} started again after the restart`,
            )
          } catch (err) {
            logs.note(
              key,
              `could not start the current release again: ${err instanceof Error ? err.message : 'error'}`,
            )
            deps.logger?.error({ err, environmentId: env.id }, 'could not restart the current release')
          }
        })
      }
    },

    async create(
      principal: Principal,
      ctx: RequestContext,
      envId: string,
      input: { ref?: string },
    ): Promise<Deployment> {
      const env = await tenancy.environments.load(principal, envId, 'deployment.create')
      if (input.ref !== undefined) assertRef(input.ref)
      if (deps.cluster) {
        // What the cluster cannot build or run is refused now, with Palisade's own error, before anything is sent.
        const project = await db
          .selectFrom('projects')
          .select(['repository'])
          .where('id', '=', env.project_id)
          .executeTakeFirst()
        deps.cluster.check({ runtime: env.runtime, repository: project?.repository ?? null })
      }
      return createDeploymentRow(principal, ctx, env, 'deploy', {
        ref: input.ref ?? null,
        release: null,
        commit: null,
      })
    },

    /** Queues a deployment for every environment tracking `branch` in the project (git push). */
    /**
     * The deployments a push starts: every environment tracking `branch` that the pusher may deploy. The others
     * (production for a developer) are returned as skipped, not refused: the push itself has landed.
     */
    async createForPush(
      principal: Principal,
      ctx: RequestContext,
      projectId: string,
      branch: string,
      commit: string,
    ): Promise<{
      deployments: Deployment[]
      skipped: Array<{ environmentId: string; name: string; criticality: string }>
    }> {
      const envs = await db
        .selectFrom('environments')
        .select(['id', 'name', 'workspace_id', 'criticality'])
        .where('project_id', '=', projectId)
        .where('branch', '=', branch)
        .orderBy('name')
        .execute()
      const deployments: Deployment[] = []
      const skipped: Array<{ environmentId: string; name: string; criticality: string }> = []
      for (const e of envs) {
        const resource = { type: 'environment', workspaceId: e.workspace_id, criticality: e.criticality }
        if (!(await isAllowed(db, principal, 'deployment.create', resource))) {
          skipped.push({ environmentId: e.id, name: e.name, criticality: e.criticality })
          continue
        }
        const env = await tenancy.environments.load(principal, e.id, 'deployment.create')
        deployments.push(
          await createDeploymentRow(principal, ctx, env, 'push', { ref: branch, release: null, commit }),
        )
      }
      return { deployments, skipped }
    },

    async rollback(principal: Principal, ctx: RequestContext, envId: string): Promise<Deployment> {
      const env = await tenancy.environments.load(principal, envId, 'deployment.create')
      const state = await db
        .selectFrom('deploy_states')
        .selectAll()
        .where('environment_id', '=', envId)
        .executeTakeFirst()
      const current = state?.current_release
      const previous =
        current === null || current === undefined
          ? undefined
          : await db
              .selectFrom('releases')
              .selectAll()
              .where('environment_id', '=', envId)
              .where('number', '<', current)
              .where('removed', '=', 0)
              .orderBy('number', 'desc')
              .limit(1)
              .executeTakeFirst()
      if (!previous)
        throw new ConflictError(DEPLOY_ERRORS.noRelease, 'there is no earlier release to roll back to', {
          publicCode: 'no_release',
        })
      return createDeploymentRow(principal, ctx, env, 'rollback', {
        ref: null,
        release: previous.number,
        commit: previous.commit,
        // A rollback returns to the release's own pinned runtime version.
        runtimeVersion: previous.runtime_version,
      })
    },

    async list(
      principal: Principal,
      envId: string,
      page: { cursor?: string | undefined; limit?: number | undefined },
    ): Promise<{ items: Deployment[]; nextCursor: string | null }> {
      await tenancy.environments.load(principal, envId, 'deployment.read')
      const limit = Math.min(Math.max(page.limit ?? 50, 1), 200)
      let q = db.selectFrom('deployments').selectAll().where('environment_id', '=', envId)
      if (page.cursor !== undefined) q = q.where('number', '<', decodeCursor(page.cursor))
      const rows = await q
        .orderBy('number', 'desc')
        .limit(limit + 1)
        .execute()
      const items = rows.slice(0, limit).map(toDeployment)
      const last = items[items.length - 1]
      return { items, nextCursor: rows.length > limit && last ? encodeCursor(last.number) : null }
    },

    async get(principal: Principal, id: string): Promise<Deployment> {
      const row = await db.selectFrom('deployments').selectAll().where('id', '=', id).executeTakeFirst()
      if (!row) throw notFound('deployment')
      await tenancy.environments.load(principal, row.environment_id, 'deployment.read')
      return toDeployment(row)
    },

    /** Whether a follower of this deployment's log can expect more output. */
    isLive(d: Deployment): boolean {
      if (d.status !== 'succeeded' && d.status !== 'failed') return true
      return runtimes.get(d.environmentId)?.serving?.deploymentId === d.id && !logs.isEnded(d.id)
    },

    async status(principal: Principal, envId: string): Promise<EnvironmentRuntimeStatus> {
      const env = await tenancy.environments.load(principal, envId, 'deployment.read')
      const state = await db
        .selectFrom('deploy_states')
        .selectAll()
        .where('environment_id', '=', envId)
        .executeTakeFirst()
      const serving = runtimes.get(envId)?.serving
      return {
        environmentId: envId,
        currentRelease: state?.current_release ?? null,
        currentDeploymentId: state?.current_deployment_id ?? null,
        maintenance: state?.maintenance === 1,
        process: serving?.processes[0]?.status() ?? null,
        instances: instanceStatuses(envId),
        sizing: parseSizing(env.sizing, DEFAULT_SIZING),
        limits: driver.limits?.mode ?? 'none',
        isolation: driver.isolation.mode,
      }
    },

    /**
     * Every instance of the environment's current release with its use against its limits (platform work, no
     * authorization: the metrics exporter).
     */
    instancesOf: instanceStatuses,

    /** What the environment's sizing gives each kind of process (platform work, no authorization). */
    async sizingPlanOf(envId: string): Promise<SizingPlan> {
      const env = await envRow(envId)
      return planSizing(parseSizing(env?.sizing, DEFAULT_SIZING))
    },

    /**
     * Every environment's current web processes as their supervisors report them (one line per environment:
     * the first instance not running names the state, restarts are summed over instances), and the log key
     * their output goes to (platform work for the monitor, no authorization).
     */
    processReports(): Array<{ environmentId: string; state: string; restarts: number; logKey: string }> {
      const out: Array<{ environmentId: string; state: string; restarts: number; logKey: string }> = []
      for (const [environmentId, rt] of runtimes) {
        const serving = rt.serving
        if (!serving || serving.processes.length === 0) continue
        const statuses = serving.processes.map((p) => p.status())
        const state = statuses.find((s) => s.state !== 'running')?.state ?? 'running'
        const restarts = statuses.reduce((sum, s) => sum + s.restarts, 0)
        out.push({ environmentId, state, restarts, logKey: serving.deploymentId })
      }
      return out
    },

    /** The log key of the release an environment serves (its deployment's id), or null (platform work). */
    servingLogKey(envId: string): string | null {
      return runtimes.get(envId)?.serving?.deploymentId ?? null
    },

    /**
     * The release an environment serves (platform work, no authorization): its number, commit and pinned
     * runtime version, or null before the first successful deployment.
     */
    currentRelease: currentReleaseOf,

    /**
     * Queues a runtime update by the platform: the current release's code (same commit, no fetch) built
     * and started on `version` through the normal zero-downtime path; a failed build or health check
     * leaves the current release serving. Writes `environment.runtime.update.start` with `changes`. `id` is
     * the deployment's id, chosen and recorded by the scheduler before it asks (a crash in between leaves an
     * attempt naming a deployment that never existed, which the scheduler clears, instead of a deployment
     * no attempt names).
     */
    async createRuntimeUpdate(
      envId: string,
      input: { id?: string; version: string; changes: Record<string, unknown> },
    ): Promise<Deployment> {
      const env = await envRow(envId)
      if (!env) throw notFound('environment')
      const current = await currentReleaseOf(envId)
      if (!current)
        throw new ConflictError(DEPLOY_ERRORS.noRelease, 'the environment has no release yet: deploy first', {
          publicCode: 'no_release',
        })
      return createDeploymentRow(PLATFORM, PLATFORM_CONTEXT, env, 'runtime-update', {
        ref: null,
        release: null,
        commit: current.commit,
        runtimeVersion: input.version,
        sourceRelease: current.release,
        ...(input.id === undefined ? {} : { id: input.id }),
        changes: { release: current.release, commit: current.commit, ...input.changes },
      })
    },

    /** A deployment by id, without authorization (platform work such as the runtime scheduler). */
    async findDeployment(id: string): Promise<Deployment | undefined> {
      const row = await db.selectFrom('deployments').selectAll().where('id', '=', id).executeTakeFirst()
      return row ? toDeployment(row) : undefined
    },

    async createJob(
      principal: Principal,
      ctx: RequestContext,
      envId: string,
      input: { type: string; command?: string },
    ): Promise<Job> {
      const env = await tenancy.environments.load(principal, envId, 'job.run')
      if (!(JOB_TYPES as readonly string[]).includes(input.type)) {
        throw new InvalidError(DEPLOY_ERRORS.invalidField, `type must be one of ${JOB_TYPES.join(', ')}`, {
          details: [{ field: 'type', message: 'unknown job type' }],
        })
      }
      const type = input.type as JobType
      if (type === 'command') {
        const c = input.command
        if (c === undefined || c.trim() === '' || c.length > MAX_COMMAND || c.includes('\0')) {
          throw new InvalidError(
            DEPLOY_ERRORS.invalidField,
            `command must be 1–${MAX_COMMAND} characters without NUL`,
            { details: [{ field: 'command', message: 'required for type command' }] },
          )
        }
      } else if (input.command !== undefined) {
        throw new InvalidError(DEPLOY_ERRORS.invalidField, 'command is only allowed with type command', {
          details: [{ field: 'command', message: 'only with type command' }],
        })
      }
      const maintenance = type === 'maintenance-on' ? 1 : type === 'maintenance-off' ? 0 : null
      if (maintenance === null) {
        const state = await db
          .selectFrom('deploy_states')
          .select('current_release')
          .where('environment_id', '=', envId)
          .executeTakeFirst()
        if (state?.current_release == null)
          throw new ConflictError(
            DEPLOY_ERRORS.noRelease,
            'the environment has no release yet: deploy first',
            { publicCode: 'no_release' },
          )
        assertRoom(envId)
      }
      const row: JobsTable = {
        id: newId('job'),
        environment_id: envId,
        workspace_id: env.workspace_id,
        type,
        command: type === 'command' ? (input.command ?? null) : null,
        status: maintenance === null ? 'queued' : 'succeeded',
        exit_code: null,
        reason: null,
        created_at: now(),
        finished_at: maintenance === null ? null : now(),
      }
      await db.transaction().execute(async (trx) => {
        await trx.insertInto('jobs').values(row).execute()
        if (maintenance !== null) {
          const existing = await trx
            .selectFrom('deploy_states')
            .select('environment_id')
            .where('environment_id', '=', envId)
            .executeTakeFirst()
          if (existing)
            await trx
              .updateTable('deploy_states')
              .set({ maintenance, updated_at: now() })
              .where('environment_id', '=', envId)
              .execute()
          else
            await trx
              .insertInto('deploy_states')
              .values({
                environment_id: envId,
                current_release: null,
                current_deployment_id: null,
                maintenance,
                updated_at: now(),
              })
              .execute()
        }
        await audit.record(trx, {
          actor: actorOf(principal),
          action: 'environment.job.create',
          target: { type: 'job', id: row.id },
          workspaceId: env.workspace_id,
          projectId: env.project_id,
          environmentId: envId,
          // The command text is the user's own and may hold secrets passed inline: only its presence is recorded.
          changes: diffChanges(null, { type, command: row.command === null ? undefined : '[command]' }),
          context: ctx,
        })
      })
      if (maintenance !== null) {
        // Maintenance does not wait behind a build: it is the switch used when a build is going wrong.
        await publish(envId)
        logs.note(row.id, `maintenance mode ${maintenance === 1 ? 'on' : 'off'}`)
        logs.end(row.id)
      } else {
        enqueue(envId, () => runJob(row.id))
      }
      return toJob(row)
    },

    /**
     * A job as the caller may see it: viewers (and developers, on production) get its type, status and times;
     * the command text needs `job.read`, the level that may read the job's output (`jobOutput`).
     */
    async getJob(principal: Principal, id: string): Promise<Job> {
      const row = await db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst()
      if (!row) throw notFound('job')
      const env = await tenancy.environments.load(principal, row.environment_id, 'deployment.read')
      return (await mayReadJobs(principal, env)) ? toJob(row) : withoutCommand(toJob(row))
    },

    /** A job whose output (and command text) the caller may read: `job.read`, production's bar on production. */
    async jobOutput(principal: Principal, id: string): Promise<Job> {
      const row = await db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst()
      if (!row) throw notFound('job')
      await tenancy.environments.load(principal, row.environment_id, 'job.read')
      return toJob(row)
    },

    async listJobs(principal: Principal, envId: string): Promise<{ items: Job[]; nextCursor: null }> {
      const env = await tenancy.environments.load(principal, envId, 'deployment.read')
      const full = await mayReadJobs(principal, env)
      const rows = await db
        .selectFrom('jobs')
        .selectAll()
        .where('environment_id', '=', envId)
        .orderBy('created_at', 'desc')
        .limit(100)
        .execute()
      return { items: rows.map((r) => (full ? toJob(r) : withoutCommand(toJob(r)))), nextCursor: null }
    },

    /**
     * After the environment was deleted: waits for its queued work, stops its app, takes its route off the
     * edge and removes its releases and logs directory. The OS user and namespace stay (reused ids never occur).
     */
    async removeEnvironment(envId: string): Promise<void> {
      const rt = runtimes.get(envId)
      if (rt) {
        await rt.tail.catch(() => undefined)
        const procs = rt.serving?.processes ?? []
        rt.serving = null
        await Promise.all(procs.map((p) => p.stop(opts.stopGraceMs)))
        runtimes.delete(envId)
      }
      sink?.remove(envId)
      await removeEnvironmentTree(envId)
    },

    /** Waits for everything queued on an environment (tests, shutdown). */
    async idle(envId: string): Promise<void> {
      let tail: Promise<void> | undefined
      while (tail !== runtimeOf(envId).tail) {
        tail = runtimeOf(envId).tail
        await tail
      }
    },

    /** Stops every process; queued work is dropped (it is marked failed at the next start). */
    async close(): Promise<void> {
      closing = true
      clearInterval(monitor)
      // Work already running finishes (or is given 5 s) so that nothing prepares a sandbox after the driver closed.
      const running = Promise.all([...runtimes.values()].map((rt) => rt.tail))
      await Promise.race([running, new Promise((r) => setTimeout(r, 5_000).unref())])
      await driver.close(opts.stopGraceMs)
    },

    /** @internal for platform-initiated work (git push, scheduled jobs). */
    platformContext: PLATFORM_CONTEXT,
    platform: PLATFORM,
  }
}

/**
 * The tenant-owned leaves of an environment directory: `home`, each `builds/<n>`, `services/<id>`, and
 * `shared/…` down to the first directory not owned by root (only root-owned directories are walked).
 */
function tenantLeavesOf(envDir: string): string[] {
  const leaves: string[] = []
  const walk = (rel: string): void => {
    const abs = path.join(envDir, rel)
    for (const name of readdirSync(abs)) {
      const child = `${rel}/${name}`
      const st = lstatSync(path.join(envDir, child))
      if (!st.isDirectory()) continue
      if (st.uid === 0) walk(child)
      else leaves.push(child)
    }
  }
  if (existsSync(path.join(envDir, 'home'))) leaves.push('home')
  for (const top of ['builds', 'services', 'shared'])
    if (existsSync(path.join(envDir, top)) && lstatSync(path.join(envDir, top)).uid === 0) walk(top)
  return leaves
}

/** The environment's own edge throttle (`off`: requests per second 0); null: the installation's default. */
function throttleOf(env: EnvironmentsTable): { requestsPerSecond: number; burst: number } | null {
  if (env.throttle === null) return null
  const t = JSON.parse(env.throttle) as { requestsPerSecond: number; burst: number } | 'off'
  return t === 'off' ? { requestsPerSecond: 0, burst: 0 } : t
}

/** The environment row's egress setting (null: the defaults). */
function egressOf(env: EnvironmentsTable): EgressSetting {
  const defaults: EgressSetting = { app: 'public', build: 'registries' }
  return env.egress === null
    ? defaults
    : { ...defaults, ...(JSON.parse(env.egress) as Partial<EgressSetting>) }
}

/** Manifests are read only when they are small regular files (not links pointing elsewhere on the host). */
function readText(file: string): string {
  const st = lstatSync(file)
  if (!st.isFile() || st.size > 1024 * 1024) throw new Error('not a small regular file')
  return readFileSync(file, 'utf8')
}

export type Deployer = ReturnType<typeof createDeployer>
