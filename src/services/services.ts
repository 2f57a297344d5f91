import { existsSync, mkdirSync, readdirSync } from 'node:fs'
import path from 'node:path'
import type { TenantFiles } from '../shared/tenant-files.js'
import { diffChanges, type AuditLog } from '../audit/index.js'
import { actorOf, type Principal } from '../iam/index.js'
import { isUniqueViolation, type Database, type Kysely } from '../store/index.js'
import { NAME_PATTERN, type Tenancy } from '../tenancy/index.js'
import type { Clock } from '../shared/clock.js'
import type { RequestContext } from '../shared/context.js'
import {
  ConflictError,
  InternalError,
  InvalidError,
  NotFoundError,
  ThrottledError,
  UnavailableError,
} from '../shared/errors.js'
import { crashPoint } from '../shared/crash-point.js'
import { newId, randomToken } from '../shared/ids.js'
import type { Logger } from '../shared/log.js'
import type { SecretBox } from '../shared/secret-box.js'
import {
  SERVICE_TYPES,
  type Credentials,
  type Engine,
  type Instance,
  type ServerControl,
  type ServiceType,
} from './engines/engine.js'
import { mariadbEngine } from './engines/mariadb-engine.js'
import { postgresqlEngine } from './engines/postgresql-engine.js'
import { redisEngine } from './engines/redis-engine.js'
import { SERVICE_ERRORS } from './errors.js'
import type { RunAs } from './exec.js'
import { freshInstanceDir, removeInstanceDir } from './instance-files.js'
import {
  DEFAULT_SERVICE_BACKOFF,
  supervise,
  type Backoff,
  type ServerOutput,
  type Supervised,
} from './supervisor.js'
import { createBackups } from './backups.js'
import type { ServicesTable } from './tables.js'
import { directoryBytes, groupRssBytes } from './usage.js'

export const SERVICE_STATUSES = ['provisioning', 'running', 'stopped', 'failed'] as const
export type ServiceStatus = (typeof SERVICE_STATUSES)[number]

export const SERVICE_LIMITS = Object.freeze({
  perEnvironment: 10,
  /** A Unix socket path is at most 107 bytes on Linux (sun_path holds 108 with the NUL). */
  socketPath: 107,
  /** How long a server may take to answer its first ping, ms. */
  readyTimeoutMs: 120_000,
  /** How long a server may take to shut down before SIGKILL, ms. */
  stopGraceMs: 20_000,
  /** How long a server left running by the previous control plane gets to answer before it is replaced, ms. */
  adoptPingMs: 5_000,
})

export interface Service {
  readonly id: string
  readonly environmentId: string
  readonly type: ServiceType
  readonly name: string
  readonly version: string
  readonly status: ServiceStatus
  /** Why provisioning or the last start failed (null otherwise). */
  readonly reason: string | null
  readonly createdAt: string
  readonly updatedAt: string
}

export interface ServiceDetail extends Service {
  /** The supervised server process (null when not started by this control plane). */
  readonly process: {
    readonly state: 'running' | 'backoff' | 'stopped'
    readonly pid: number | null
    readonly restarts: number
  } | null
  readonly usage: { readonly dataBytes: number; readonly memoryRssBytes: number | null }
}

export interface ServiceInput {
  readonly type: ServiceType
  readonly name?: string
  readonly version?: string
}

/** What an owner or admin gets from the explicit, audited credentials request. */
export interface ServiceCredentials {
  readonly serviceId: string
  readonly user: string
  readonly password: string
  readonly database: string | null
  readonly socketPath: string
  readonly url: string
  readonly variables: Readonly<Record<string, string>>
}

export interface ServicesDeps {
  readonly db: Kysely<Database>
  readonly audit: AuditLog
  readonly clock: Clock
  readonly tenancy: Tenancy
  readonly secrets: SecretBox
  readonly dataDir: string
  readonly logger?: Logger
  /**
   * Prepares the environment's system user (the deploy driver's) and says who its services run as;
   * null means the control plane's own user. Default: no separate user.
   */
  readonly environmentUser?: (environmentId: string) => Promise<RunAs | null>
  readonly backoff?: Backoff
  /** The engines by type (tests may wrap one). */
  readonly engines?: Readonly<Record<ServiceType, Engine>>
  /** Maintenance mode held during restores (the deploy capability's `holdMaintenance`). */
  readonly holdMaintenance?: (environmentId: string) => Promise<() => Promise<void>>
  /** The maintenance flag now, and setting it (a restore interrupted by a crash puts it back). */
  readonly maintenanceOf?: (environmentId: string) => Promise<boolean>
  readonly setMaintenance?: (environmentId: string, on: boolean) => Promise<void>
  /** Largest backup archive an import accepts, bytes. */
  readonly backupImportLimit?: number
  /** The environments' tenant-writable directories (the deploy driver's); persistent data goes through it. */
  readonly files?: TenantFiles
  /**
   * The argv prefix that starts a service inside its own limits (its share of the environment's sizing,
   * src/deploy/sizing.ts); null or absent: no limits (not root, no cgroups).
   */
  readonly serviceLauncher?: (environmentId: string, serviceId: string) => Promise<readonly string[] | null>
  /**
   * Crash safety (docs/crash-safety.md): stops a server still running on the service's directory (a previous
   * control plane's, or a second one) before one is started, so that two servers never share a data
   * directory; and records each server process started (`null` pid: the service stopped).
   */
  readonly serverGuard?: {
    stopStray(environmentId: string, serviceId: string, dir: string, runAs: RunAs | null): Promise<number>
    /** The live recorded server on the directory, if it provably is the one started there (adoption). */
    adoptable(
      environmentId: string,
      serviceId: string,
      dir: string,
      runAs: RunAs | null,
    ): { readonly pid: number; alive(): boolean } | null
    /** Stops recorded servers `wanted` refuses; returns how many ran. */
    stopUnwanted(wanted: (environmentId: string, serviceId: string) => boolean): Promise<number>
    spawned(environmentId: string, serviceId: string, pid: number | null): void
    /**
     * Servers' output files, which outlive the control plane: an adopted server keeps writing where the next
     * control plane reads (docs/crash-safety.md). Absent: output goes through pipes, lost with the control plane.
     */
    readonly output?: {
      open(environmentId: string, serviceId: string): number
      size(environmentId: string, serviceId: string): number
      read(environmentId: string, serviceId: string, maxBytes: number, from?: number): string
      readSince(
        environmentId: string,
        serviceId: string,
        from: number,
        maxBytes: number,
      ): { buf: Buffer; next: number }
      cap(environmentId: string, serviceId: string): boolean
      remove(environmentId: string, serviceId: string): void
    }
  }
  /**
   * Under PALISADE_DRIVER=kubernetes: services run as StatefulSets in the environment's namespace (the deploy
   * driver's seam) instead of servers on this host; absent: this host runs them.
   */
  readonly cluster?: ServicesCluster
}

/** Where services run when they run in a cluster (filled by the deploy capability's Kubernetes driver). */
export interface ServicesCluster {
  /** Applies the service (its password is the one Palisade generated and keeps); resolves once it is ready. */
  provision(
    environmentId: string,
    service: { readonly name: string; readonly kind: ServiceType; readonly password: string },
  ): Promise<void>
  remove(environmentId: string, name: string, deleteData: boolean): Promise<void>
  /** Where the environment's pods reach it (cluster DNS name and port). */
  address(
    environmentId: string,
    name: string,
    kind: ServiceType,
  ): { readonly host: string; readonly port: number }
  /** The engine's version as the cluster runs it. */
  version(kind: ServiceType): string
}

/**
 * Connection variables of a service in a cluster: the user and database the StatefulSet's image creates
 * (`app`), the password Palisade keeps, the service's cluster DNS name.
 */
function clusterConnection(
  type: ServiceType,
  at: { readonly host: string; readonly port: number },
  password: string,
): { url: string; family: Record<string, string> } {
  const port = String(at.port)
  if (type === 'redis')
    return {
      url: `redis://:${password}@${at.host}:${port}/0`,
      family: { REDIS_HOST: at.host, REDIS_PORT: port, REDIS_PASSWORD: password },
    }
  if (type === 'postgresql')
    return {
      url: `postgresql://app:${password}@${at.host}:${port}/app`,
      family: { PGHOST: at.host, PGPORT: port, PGUSER: 'app', PGPASSWORD: password, PGDATABASE: 'app' },
    }
  return {
    url: `mysql://app:${password}@${at.host}:${port}/app`,
    family: {
      MYSQL_HOST: at.host,
      MYSQL_PORT: port,
      MYSQL_USER: 'app',
      MYSQL_PASSWORD: password,
      MYSQL_DATABASE: 'app',
    },
  }
}

export const ENGINES: Readonly<Record<ServiceType, Engine>> = Object.freeze({
  mariadb: mariadbEngine,
  redis: redisEngine,
  postgresql: postgresqlEngine,
})

interface Live {
  readonly supervised: Supervised
  readonly inst: Instance
}

const invalid = (field: string, message: string, code: string = SERVICE_ERRORS.invalidField): InvalidError =>
  new InvalidError(code, `${field} ${message}`, { details: [{ field, message }] })

function toService(r: ServicesTable): Service {
  return {
    id: r.id,
    environmentId: r.environment_id,
    type: r.type as ServiceType,
    name: r.name,
    version: r.version,
    status: r.status as ServiceStatus,
    reason: r.reason,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  }
}

function generateCredentials(type: ServiceType): Credentials {
  // Alphanumeric only: safe inside URLs, SQL literals and Redis ACL rules without escaping. 32 chars ≈ 165 bits.
  return {
    adminUser: type === 'postgresql' ? 'postgres' : type === 'mariadb' ? 'root' : 'palisade-admin',
    adminPassword: randomToken(32),
    user: `u${randomToken(11)}`,
    password: randomToken(32),
    database: type === 'redis' ? '' : 'app',
  }
}

type OutputFiles = NonNullable<NonNullable<ServicesDeps['serverGuard']>['output']>

/** One service's output file, as the supervisor sees it. */
function outputOf(files: OutputFiles, environmentId: string, serviceId: string): ServerOutput {
  return {
    open: () => files.open(environmentId, serviceId),
    size: () => files.size(environmentId, serviceId),
    read: (maxBytes, from) => files.read(environmentId, serviceId, maxBytes, from),
    cap: () => void files.cap(environmentId, serviceId),
  }
}

/** Most lines of a server's output one request reads. */
export const SERVICE_LOG_LINES_MAX = 5000
/** Followers of one service's output, and of all services' together (each holds a connection and a timer). */
export const SERVICE_LOG_FOLLOWERS_PER_SERVICE = 10
export const SERVICE_LOG_FOLLOWERS_MAX = 200
/** How often a follower looks for new output, and the most it sends from one look. */
const FOLLOW_POLL_MS = 500
const FOLLOW_READ_MAX = 1 << 20

const sealContext = (serviceId: string): string => `service:${serviceId}:credentials`

/** Upper-case variable prefix from a service name (`cache-2` → `CACHE_2`). */
const varName = (name: string): string => name.toUpperCase().replace(/-/g, '_')

/** The shape of a service id (`newId('svc')`): only such directories are a service's. */
const SERVICE_ID = /^svc_[a-z0-9]{20}$/

export function createServices(deps: ServicesDeps) {
  const { db, audit, clock, tenancy, secrets } = deps
  const engines = deps.engines ?? ENGINES
  const backoff = deps.backoff ?? DEFAULT_SERVICE_BACKOFF
  const live = new Map<string, Live>()
  /** Work in flight per service (provisioning, start, stop): one at a time. */
  const work = new Map<string, Promise<void>>()
  let closing = false

  const notFound = (): NotFoundError =>
    new NotFoundError(SERVICE_ERRORS.notFound, 'service not found', { publicCode: 'not_found' })
  const envDirOf = (envId: string): string => path.join(deps.dataDir, 'envs', envId)
  const serviceDirOf = (envId: string, id: string): string => path.join(envDirOf(envId), 'services', id)
  const credentialsOf = (r: ServicesTable): Credentials =>
    JSON.parse(secrets.open(r.credentials, sealContext(r.id))) as Credentials

  function serialise(id: string, task: () => Promise<void>): Promise<void> {
    const prior = work.get(id) ?? Promise.resolve()
    const next = prior.then(task, task)
    const tracked = next.finally(() => {
      if (work.get(id) === tracked) work.delete(id)
    })
    // The caller handles `next`; this copy only marks the queue. Unhandled, a failing task (a restore that
    // fails) would be an unhandled rejection, which ends a Node process.
    tracked.catch(() => undefined)
    work.set(id, tracked)
    return next
  }

  async function setStatus(id: string, status: ServiceStatus, reason: string | null): Promise<void> {
    await db
      .updateTable('services')
      .set({ status, reason, updated_at: clock.now().toISOString() })
      .where('id', '=', id)
      .execute()
  }

  /**
   * Environment preparations run one at a time, and once per environment: creating system users
   * concurrently races on /etc/passwd.
   */
  const users = new Map<string, Promise<RunAs | null>>()
  let preparing: Promise<unknown> = Promise.resolve()
  function environmentUser(envId: string): Promise<RunAs | null> {
    const prepare = deps.environmentUser
    if (!prepare) return Promise.resolve(null)
    let p = users.get(envId)
    if (!p) {
      // One retry: the deployer may be preparing the same environment at this very moment.
      const once = (): Promise<RunAs | null> => prepare(envId).catch(() => prepare(envId))
      p = preparing.then(once, once)
      preparing = p.catch(() => undefined)
      users.set(envId, p)
      p.catch(() => users.delete(envId))
    }
    return p
  }

  async function runAsFor(envId: string): Promise<RunAs | null> {
    mkdirSync(envDirOf(envId), { recursive: true, mode: 0o700 })
    const runAs = await environmentUser(envId)
    if (runAs === null && process.getuid?.() === 0) {
      // PostgreSQL refuses to run as root, and a database server running as root is a bad idea anyway.
      throw new UnavailableError(
        SERVICE_ERRORS.noUser,
        'services need the environment’s own system user when the control plane runs as root (enable isolation)',
        {
          publicCode: 'unavailable',
        },
      )
    }
    return runAs
  }

  async function waitReady(
    engine: Engine,
    inst: Instance,
    creds: Credentials,
    supervised: Supervised,
  ): Promise<void> {
    const deadline = Date.now() + SERVICE_LIMITS.readyTimeoutMs
    for (;;) {
      if (await engine.ping(inst, creds)) return
      if (supervised.state === 'stopped') throw new Error('stopped while starting')
      if (Date.now() > deadline)
        throw new Error(
          `did not answer within ${SERVICE_LIMITS.readyTimeoutMs / 1000} s: ${supervised.output().trim().slice(-600)}`,
        )
      await new Promise((r) => setTimeout(r, 200))
    }
  }

  /** Stops whatever still runs on the service's directory (a previous control plane's server). */
  async function stopStray(r: ServicesTable, inst: Instance): Promise<void> {
    const stopped = (await deps.serverGuard?.stopStray(r.environment_id, r.id, inst.dir, inst.runAs)) ?? 0
    if (stopped > 0)
      deps.logger?.warn({ service: r.id, stopped }, 'stopped a server left running on the service directory')
  }

  /**
   * At start (docs/crash-safety.md): a service deleted with its data by a control plane that died before the
   * directory was gone leaves a directory no row owns, and a stopped service's server may still run. Servers
   * recorded for a service that should not run are stopped; directories of services that no longer exist are
   * removed (as the environment's user). Environments that no longer exist are the deletion sweep's.
   */
  async function removeUnowned(): Promise<void> {
    const rows = await db.selectFrom('services').select(['id', 'environment_id', 'status']).execute()
    const byId = new Map(rows.map((r) => [r.id, r]))
    const envs = new Set((await db.selectFrom('environments').select('id').execute()).map((r) => r.id))
    const stopped =
      (await deps.serverGuard?.stopUnwanted((envId, id) => {
        const r = byId.get(id)
        // Kept: servers startAll starts (it stops them first), and those of deleted environments (the sweep's).
        return !envs.has(envId) || (r !== undefined && r.environment_id === envId && r.status !== 'stopped')
      })) ?? 0
    if (stopped > 0) deps.logger?.warn({ stopped }, 'stopped servers of services that should not run')
    const root = path.join(deps.dataDir, 'envs')
    for (const envId of existsSync(root) ? readdirSync(root) : []) {
      if (!envs.has(envId)) continue
      const dir = path.join(root, envId, 'services')
      for (const name of existsSync(dir) ? readdirSync(dir) : []) {
        if (!SERVICE_ID.test(name) || byId.has(name)) continue
        try {
          await removeInstanceDir({ id: name, dir: path.join(dir, name), runAs: await runAsFor(envId) })
          deps.serverGuard?.output?.remove(envId, name)
          deps.logger?.warn(
            { environment: envId, service: name },
            'removed the directory of a service deleted by a control plane that stopped half-way',
          )
        } catch (err) {
          deps.logger?.error({ err, environment: envId, service: name }, 'removing a deleted service failed')
        }
      }
    }
  }

  /**
   * Starts the server under supervision and waits until it answers; the caller has initialised it. With
   * `mayAdopt`, the server a previous control plane started on the directory and recorded is taken over
   * instead, if it provably is that server and answers (docs/crash-safety.md): a control-plane crash does not
   * restart the databases. Otherwise whatever runs on the directory is stopped first.
   */
  async function launch(
    r: ServicesTable,
    inst: Instance,
    creds: Credentials,
    mayAdopt = false,
  ): Promise<void> {
    const engine = engines[r.type as ServiceType]
    const cmd = engine.server(inst)
    const guard = deps.serverGuard
    // Also for an adopted server: once it dies, it is started again through the launcher (its cgroup).
    const launcher = deps.serviceLauncher ? await deps.serviceLauncher(r.environment_id, r.id) : null
    const taken = mayAdopt ? (guard?.adoptable(r.environment_id, r.id, inst.dir, inst.runAs) ?? null) : null
    if (taken) {
      const supervised = superviseServer(r, inst, cmd, launcher, taken)
      live.set(r.id, { supervised, inst })
      if (await answersWithin(engine, inst, creds, SERVICE_LIMITS.adoptPingMs)) {
        deps.logger?.info(
          { service: r.id, type: r.type, pid: taken.pid },
          'service server left running by the previous control plane adopted',
        )
        return
      }
      deps.logger?.warn(
        { service: r.id, pid: taken.pid },
        'a recorded server did not answer; starting afresh',
      )
      await supervised.stop(SERVICE_LIMITS.stopGraceMs)
      live.delete(r.id)
    }
    await stopStray(r, inst)
    const supervised = superviseServer(r, inst, cmd, launcher, null)
    live.set(r.id, { supervised, inst })
    try {
      await waitReady(engine, inst, creds, supervised)
    } catch (error) {
      await supervised.stop(SERVICE_LIMITS.stopGraceMs)
      live.delete(r.id)
      throw error
    }
  }

  async function answersWithin(
    engine: Engine,
    inst: Instance,
    creds: Credentials,
    ms: number,
  ): Promise<boolean> {
    const deadline = Date.now() + ms
    for (;;) {
      if (await engine.ping(inst, creds).catch(() => false)) return true
      if (Date.now() > deadline) return false
      await new Promise((res) => setTimeout(res, 200))
    }
  }

  function superviseServer(
    r: ServicesTable,
    inst: Instance,
    cmd: ReturnType<Engine['server']>,
    launcher: readonly string[] | null,
    adopt: { readonly pid: number; alive(): boolean } | null,
  ): Supervised {
    const guard = deps.serverGuard
    return supervise({
      argv: cmd.argv,
      runAs: inst.runAs,
      launcher,
      cwd: inst.dir,
      stopSignal: cmd.stopSignal,
      backoff,
      ...(guard ? { onSpawn: (pid: number) => guard.spawned(r.environment_id, r.id, pid) } : {}),
      onExit: (code, signal) => {
        if (live.get(r.id)?.supervised.state === 'stopped') guard?.spawned(r.environment_id, r.id, null)
        if (live.get(r.id)?.supervised.state !== 'stopped') {
          deps.logger?.warn(
            { service: r.id, type: r.type, code, signal },
            'service process exited; restarting with backoff',
          )
        }
      },
      ...(adopt ? { adopt } : {}),
      ...(guard?.output ? { output: outputOf(guard.output, r.environment_id, r.id) } : {}),
    })
  }

  async function instanceOf(r: ServicesTable): Promise<Instance> {
    const runAs = await runAsFor(r.environment_id)
    const dir = serviceDirOf(r.environment_id, r.id)
    const engine = engines[r.type as ServiceType]
    const inst: Instance = { id: r.id, dir, runAs }
    if (Buffer.byteLength(engine.socketPath(inst)) > SERVICE_LIMITS.socketPath) {
      throw new InternalError(
        SERVICE_ERRORS.pathTooLong,
        `the socket path ${engine.socketPath(inst)} is too long for a Unix socket; use a shorter data directory`,
      )
    }
    return inst
  }

  async function provision(id: string): Promise<void> {
    const r = await db.selectFrom('services').selectAll().where('id', '=', id).executeTakeFirst()
    if (!r || closing) return
    const engine = engines[r.type as ServiceType]
    if (deps.cluster) return provisionInCluster(r, deps.cluster)
    try {
      const inst = await instanceOf(r)
      const creds = credentialsOf(r)
      // A provisioning interrupted half-way (crash, restart) starts over from an empty directory, once the
      // server a previous control plane may have left running on it is stopped. The parent stays root's
      // (0711): only each service's own directory is the environment's.
      await stopStray(r, inst)
      await freshInstanceDir(inst)
      crashPoint('service.dir-fresh')
      await engine.initialize(inst, creds)
      crashPoint('service.initialized')
      await launch(r, inst, creds)
      crashPoint('service.launched')
      await engine.bootstrap(inst, creds)
      await setStatus(id, 'running', null)
      deps.logger?.info({ service: id, type: r.type, environment: r.environment_id }, 'service provisioned')
    } catch (error) {
      const reason = (error instanceof Error ? error.message : String(error)).slice(0, 1000)
      deps.logger?.error({ service: id, type: r.type, err: reason }, 'service provisioning failed')
      const l = live.get(id)
      if (l) await l.supervised.stop(SERVICE_LIMITS.stopGraceMs)
      live.delete(id)
      await setStatus(id, 'failed', reason).catch(() => undefined)
    }
  }

  async function provisionInCluster(r: ServicesTable, cluster: ServicesCluster): Promise<void> {
    try {
      await cluster.provision(r.environment_id, {
        name: r.name,
        kind: r.type as ServiceType,
        password: credentialsOf(r).password,
      })
      await setStatus(r.id, 'running', null)
      deps.logger?.info(
        { service: r.id, type: r.type, environment: r.environment_id },
        'service provisioned in the cluster',
      )
    } catch (error) {
      const reason = (error instanceof Error ? error.message : String(error)).slice(0, 1000)
      deps.logger?.error({ service: r.id, type: r.type, err: reason }, 'service provisioning failed')
      await setStatus(r.id, 'failed', reason).catch(() => undefined)
    }
  }

  /** The service's connection: its cluster address under the kubernetes driver, else its local socket. */
  function connectionOf(r: ServicesTable): { url: string; family: Record<string, string> } {
    const creds = credentialsOf(r)
    if (deps.cluster)
      return clusterConnection(
        r.type as ServiceType,
        deps.cluster.address(r.environment_id, r.name, r.type as ServiceType),
        creds.password,
      )
    const inst: Instance = { id: r.id, dir: serviceDirOf(r.environment_id, r.id), runAs: null }
    return engines[r.type as ServiceType].connection(inst, creds)
  }

  async function start(r: ServicesTable): Promise<void> {
    if (live.has(r.id) || closing) return
    try {
      const inst = await instanceOf(r)
      await launch(r, inst, credentialsOf(r), true)
      if (r.status !== 'running') await setStatus(r.id, 'running', null)
    } catch (error) {
      const reason = (error instanceof Error ? error.message : String(error)).slice(0, 1000)
      deps.logger?.error({ service: r.id, err: reason }, 'service failed to start')
      await setStatus(r.id, 'failed', reason)
    }
  }

  async function stop(id: string): Promise<void> {
    const l = live.get(id)
    if (!l) return
    await l.supervised.stop(SERVICE_LIMITS.stopGraceMs)
    live.delete(id)
  }

  /** Followers of each service's output (`followLogs`), and of all services. */
  const logFollowers = new Map<string, number>()
  let allLogFollowers = 0

  /** The last `lines` lines of a service's server output (its output file, or what this control plane's server wrote). */
  function lastLines(r: ServicesTable, lines: number): string[] {
    if (!Number.isInteger(lines) || lines < 0 || lines > SERVICE_LOG_LINES_MAX)
      throw invalid('lines', `must be an integer from 0 to ${SERVICE_LOG_LINES_MAX}`)
    if (lines === 0) return []
    const files = deps.serverGuard?.output
    // 200 bytes a line on average is plenty for engines' log lines; the file is capped anyway.
    const text = files
      ? files.read(r.environment_id, r.id, Math.min(lines * 200, 4 << 20))
      : (live.get(r.id)?.supervised.output() ?? '')
    const all = text.split('\n')
    if (all.at(-1) === '') all.pop()
    return all.slice(-lines)
  }

  async function loadService(
    principal: Principal,
    id: string,
    action: 'service.read' | 'service.manage' | 'service.credentials',
  ): Promise<ServicesTable> {
    const r = await db.selectFrom('services').selectAll().where('id', '=', id).executeTakeFirst()
    if (!r) throw notFound()
    // Authorizes on the environment: not a member → 404, like a service that does not exist.
    await tenancy.environments.load(principal, r.environment_id, action)
    return r
  }

  function detail(r: ServicesTable): ServiceDetail {
    const l = live.get(r.id)
    const pid = l?.supervised.pid ?? null
    return {
      ...toService(r),
      process: l ? { state: l.supervised.state, pid, restarts: l.supervised.restarts } : null,
      usage: {
        dataBytes: directoryBytes(serviceDirOf(r.environment_id, r.id)),
        memoryRssBytes: l?.supervised.group == null ? null : groupRssBytes(l.supervised.group),
      },
    }
  }

  const api = {
    /** Provisions a service; answers at once with status `provisioning` (poll `get` for `running`). */
    async create(
      principal: Principal,
      ctx: RequestContext,
      environmentId: string,
      input: ServiceInput,
    ): Promise<Service> {
      const env = await tenancy.environments.load(principal, environmentId, 'service.manage')
      if (!SERVICE_TYPES.includes(input.type))
        throw invalid('type', `must be one of ${SERVICE_TYPES.join(', ')}`)
      const engine = engines[input.type]
      const name = input.name ?? input.type
      if (!new RegExp(NAME_PATTERN).test(name)) throw invalid('name', `must match ${NAME_PATTERN}`)
      const installed = deps.cluster ? deps.cluster.version(input.type) : await engine.installedVersion()
      if (
        input.version !== undefined &&
        input.version !== installed &&
        !installed.startsWith(input.version + '.')
      ) {
        throw invalid(
          'version',
          `is not available; this host has ${input.type} ${installed}`,
          SERVICE_ERRORS.versionUnavailable,
        )
      }
      const id = newId('svc')
      const creds = generateCredentials(input.type)
      const row = await db.transaction().execute(async (trx) => {
        const count = await trx
          .selectFrom('services')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('environment_id', '=', env.id)
          .executeTakeFirstOrThrow()
        if (Number(count.n) >= SERVICE_LIMITS.perEnvironment) {
          throw new ConflictError(
            SERVICE_ERRORS.tooMany,
            `an environment holds at most ${SERVICE_LIMITS.perEnvironment} services`,
            { publicCode: 'limit_reached' },
          )
        }
        const now = clock.now().toISOString()
        const r: ServicesTable = {
          id,
          environment_id: env.id,
          workspace_id: env.workspace_id,
          project_id: env.project_id,
          type: input.type,
          name,
          version: installed,
          status: 'provisioning',
          reason: null,
          credentials: secrets.seal(JSON.stringify(creds), sealContext(id)),
          created_at: now,
          updated_at: now,
        }
        try {
          await trx.insertInto('services').values(r).execute()
        } catch (error) {
          if (isUniqueViolation(error))
            throw new ConflictError(SERVICE_ERRORS.nameTaken, `service ${name} exists in this environment`, {
              publicCode: 'conflict',
            })
          throw error
        }
        await audit.record(trx, {
          actor: actorOf(principal),
          action: 'environment.service.create',
          target: { type: 'service', id },
          workspaceId: env.workspace_id,
          projectId: env.project_id,
          environmentId: env.id,
          changes: diffChanges(null, { type: input.type, name, version: installed }),
          context: ctx,
        })
        return r
      })
      void serialise(id, () => provision(id))
      return toService(row)
    },

    async list(principal: Principal, environmentId: string): Promise<{ items: Service[]; nextCursor: null }> {
      await tenancy.environments.load(principal, environmentId, 'service.read')
      const rows = await db
        .selectFrom('services')
        .selectAll()
        .where('environment_id', '=', environmentId)
        .orderBy('name')
        .execute()
      return { items: rows.map(toService), nextCursor: null }
    },

    /** Status, process, data size and memory of one service. */
    async get(principal: Principal, id: string): Promise<ServiceDetail> {
      return detail(await loadService(principal, id, 'service.read'))
    },

    /**
     * The last `lines` lines of the service's server output (stdout and stderr as the engine wrote them;
     * engines never print passwords): from its output file, which also holds what an adopted server wrote
     * while no control plane ran; without one (no records directory), what this control plane's server wrote.
     */
    async logs(principal: Principal, id: string, lines: number): Promise<{ lines: string[] }> {
      if (lines === 0) throw invalid('lines', `must be an integer from 1 to ${SERVICE_LOG_LINES_MAX}`)
      const r = await loadService(principal, id, 'service.read')
      return { lines: lastLines(r, lines) }
    },

    /**
     * Follows the service's server output: the last `lines` lines, then each new whole line as the server writes
     * it (the output file is looked at twice a second; a file emptied by the size cap is read from its start),
     * until the returned function is called. Needs the output files (`palisade serve` keeps them).
     */
    async followLogs(
      principal: Principal,
      id: string,
      lines: number,
      onLine: (line: string) => void,
    ): Promise<() => void> {
      const r = await loadService(principal, id, 'service.read')
      const files = deps.serverGuard?.output
      if (!files)
        throw new ConflictError(
          SERVICE_ERRORS.logsNotFollowable,
          "this installation keeps no service output files (palisade serve does): the output can't be followed",
        )
      if (
        (logFollowers.get(r.id) ?? 0) >= SERVICE_LOG_FOLLOWERS_PER_SERVICE ||
        allLogFollowers >= SERVICE_LOG_FOLLOWERS_MAX
      )
        throw new ThrottledError(
          SERVICE_ERRORS.tooManyFollowers,
          'too many followers of this output; retry later',
          {
            retryAfter: 10,
            publicCode: 'too_many_followers',
          },
        )
      // Where new output starts, taken before the history is read: a line written in between is shown twice at
      // worst, never lost.
      let next = files.size(r.environment_id, r.id)
      for (const line of lastLines(r, lines)) onLine(line)
      logFollowers.set(r.id, (logFollowers.get(r.id) ?? 0) + 1)
      allLogFollowers++
      let partial = Buffer.alloc(0)
      const look = (): void => {
        const got = files.readSince(r.environment_id, r.id, next, FOLLOW_READ_MAX)
        next = got.next
        if (got.buf.length === 0) return
        const bytes = Buffer.concat([partial, got.buf])
        const end = bytes.lastIndexOf(0x0a)
        // A line not finished yet waits for its end (at most 64 KiB of it is kept).
        partial = Buffer.from(bytes.subarray(end + 1).subarray(-65_536))
        if (end < 0) return
        for (const line of bytes.toString('utf8', 0, end).split('\n')) onLine(line)
      }
      const timer = setInterval(() => {
        try {
          look()
        } catch (err) {
          deps.logger?.warn({ err, serviceId: r.id }, 'reading a service output for a follower failed')
        }
      }, FOLLOW_POLL_MS)
      timer.unref()
      let stopped = false
      return () => {
        if (stopped) return
        stopped = true
        clearInterval(timer)
        allLogFollowers--
        const n = (logFollowers.get(r.id) ?? 1) - 1
        if (n > 0) logFollowers.set(r.id, n)
        else logFollowers.delete(r.id)
      }
    },

    /**
     * Stops the service. With `deleteData` the data directory and the service are removed for good;
     * without it the service stays listed as `stopped` with its data (delete again with `deleteData` to remove).
     */
    async remove(
      principal: Principal,
      ctx: RequestContext,
      id: string,
      options: { deleteData: boolean },
    ): Promise<void> {
      const r = await loadService(principal, id, 'service.manage')
      await serialise(id, async () => {
        await stop(id)
        await db.transaction().execute(async (trx) => {
          if (options.deleteData) await trx.deleteFrom('services').where('id', '=', id).execute()
          else
            await trx
              .updateTable('services')
              .set({ status: 'stopped', reason: null, updated_at: clock.now().toISOString() })
              .where('id', '=', id)
              .execute()
          await audit.record(trx, {
            actor: actorOf(principal),
            action: 'environment.service.delete',
            target: { type: 'service', id },
            workspaceId: r.workspace_id,
            projectId: r.project_id,
            environmentId: r.environment_id,
            changes: diffChanges(
              { status: r.status },
              { status: options.deleteData ? 'deleted' : 'stopped', dataDeleted: options.deleteData },
            ),
            context: ctx,
          })
        })
        crashPoint('service.deleted')
        // A crash before this line leaves a directory no row owns: `startAll` removes it at the next start.
        if (deps.cluster) await deps.cluster.remove(r.environment_id, r.name, options.deleteData)
        else if (options.deleteData) {
          await removeInstanceDir(await instanceOf(r))
          deps.serverGuard?.output?.remove(r.environment_id, r.id)
        }
      })
    },

    /**
     * The app user's credentials, for owners and admins only. A read that writes an audit event on purpose:
     * who saw a database password, and when, must be answerable.
     */
    async credentials(principal: Principal, ctx: RequestContext, id: string): Promise<ServiceCredentials> {
      const r = await loadService(principal, id, 'service.credentials')
      const engine = engines[r.type as ServiceType]
      const creds = credentialsOf(r)
      const inst: Instance = { id: r.id, dir: serviceDirOf(r.environment_id, r.id), runAs: null }
      const { url, family } = connectionOf(r)
      await audit.recordAlone({
        actor: actorOf(principal),
        action: 'environment.service.credentials.read',
        target: { type: 'service', id },
        workspaceId: r.workspace_id,
        projectId: r.project_id,
        environmentId: r.environment_id,
        changes: {},
        context: ctx,
      })
      return {
        serviceId: r.id,
        user: creds.user,
        password: creds.password,
        database: creds.database === '' ? null : creds.database,
        // In a cluster the service is reached over the network (`url`), not a socket on this host.
        socketPath: deps.cluster ? '' : engine.socketPath(inst),
        url,
        variables: { [`SERVICE_${varName(r.name)}_URL`]: url, ...family },
      }
    },

    /**
     * Variables for the environment's processes: `SERVICE_<NAME>_URL` for every service that is not
     * stopped; `DATABASE_URL` from the oldest SQL database, `REDIS_URL` from the oldest Redis, and the
     * family variables (MYSQL_*, PG*, REDIS_*) from the oldest of each type. Internal: no principal.
     */
    async connectionVariables(environmentId: string): Promise<Record<string, string>> {
      const rows = await db
        .selectFrom('services')
        .selectAll()
        .where('environment_id', '=', environmentId)
        .where('status', '!=', 'stopped')
        .orderBy('created_at')
        .orderBy('id')
        .execute()
      const out: Record<string, string> = {}
      const seenType = new Set<string>()
      for (const r of rows) {
        const { url, family } = connectionOf(r)
        out[`SERVICE_${varName(r.name)}_URL`] = url
        if (!seenType.has(r.type)) {
          seenType.add(r.type)
          Object.assign(out, family)
          if (r.type === 'redis') out['REDIS_URL'] = url
          else out['DATABASE_URL'] ??= url
        }
      }
      return out
    },

    /** At boot: starts every service that should run, and finishes interrupted provisionings. */
    async startAll(): Promise<void> {
      closing = false
      // In a cluster the StatefulSets run without the control plane; only interrupted provisionings go on.
      if (deps.cluster) {
        const cut = await db
          .selectFrom('services')
          .select('id')
          .where('status', '=', 'provisioning')
          .execute()
        await Promise.all(cut.map((row) => serialise(row.id, () => provision(row.id))))
        return
      }
      await removeUnowned()
      const rows = await db
        .selectFrom('services')
        .select('id')
        .where('status', 'in', ['running', 'provisioning', 'failed'])
        .execute()
      await Promise.all(
        rows.map((row) =>
          serialise(row.id, async () => {
            // The API may have taken (and provisioned) this service since the list was read: start only what
            // this control plane does not run yet, as it is now.
            if (live.has(row.id)) return
            const r = await db.selectFrom('services').selectAll().where('id', '=', row.id).executeTakeFirst()
            if (!r || !['running', 'provisioning', 'failed'].includes(r.status)) return
            if (r.status === 'provisioning') await provision(r.id)
            else if (
              r.status === 'failed' &&
              !existsSync(path.join(serviceDirOf(r.environment_id, r.id), 'data'))
            )
              await provision(r.id)
            else await start(r)
          }),
        ),
      )
    },

    /** At shutdown: waits for work in flight, then stops every server cleanly. */
    async stopAll(): Promise<void> {
      closing = true
      await Promise.all([...work.values()].map((p) => p.catch(() => undefined)))
      await Promise.all([...live.keys()].map((id) => stop(id)))
    },

    /**
     * For the environment's deletion (its rows go by cascade): stops the servers this control plane runs
     * for it. Their data goes with the environment's directory, which the deploy capability removes as
     * the environment's user (a root `rm -r` there could be steered by a planted link).
     */
    async removeEnvironment(environmentId: string): Promise<void> {
      const prefix = path.join(envDirOf(environmentId), 'services') + path.sep
      const ids = [...live.entries()].filter(([, l]) => l.inst.dir.startsWith(prefix)).map(([id]) => id)
      await Promise.all(ids.map((id) => serialise(id, () => stop(id))))
    },

    /**
     * Removes a directory under the environment's `services` that no service owns (a scratch server's of an
     * interrupted sync), its contents as the environment's user.
     */
    async removeStrayInstance(environmentId: string, name: string): Promise<void> {
      const inst: Instance = {
        id: name,
        dir: path.join(envDirOf(environmentId), 'services', name),
        runAs: await runAsFor(environmentId),
      }
      await removeInstanceDir(inst)
    },

    /** Resolves when no provisioning, start or stop is in flight for `id` (tests, CLI waits). */
    async settled(id: string): Promise<void> {
      while (work.has(id)) await work.get(id)?.catch(() => undefined)
    },

    /**
     * Platform-internal (backups): runs `fn` alone on a running service with its admin credentials and a
     * control to stop and start its server.
     */
    async exclusive<T>(
      id: string,
      fn: (a: { service: Service; inst: Instance; creds: Credentials; control: ServerControl }) => Promise<T>,
    ): Promise<T> {
      let result: { value: T } | undefined
      await serialise(id, async () => {
        const r = await db.selectFrom('services').selectAll().where('id', '=', id).executeTakeFirst()
        const l = live.get(id)
        if (!r || !l)
          throw new ConflictError(SERVICE_ERRORS.notRunning, `service ${r?.name ?? id} is not running`, {
            publicCode: 'service_not_running',
          })
        const control: ServerControl = {
          stop: () => stop(id),
          start: async () => {
            await start(r)
            if (!live.has(id)) throw new Error(`service ${r.name} did not start again`)
          },
        }
        result = {
          value: await fn({ service: toService(r), inst: l.inst, creds: credentialsOf(r), control }),
        }
      })
      return (result as { value: T }).value
    },

    /** Platform-internal access for backups: the instance and admin credentials of a running service. */
    async adminAccess(
      id: string,
    ): Promise<{ service: Service; inst: Instance; creds: Credentials } | undefined> {
      const r = await db.selectFrom('services').selectAll().where('id', '=', id).executeTakeFirst()
      const l = live.get(id)
      if (!r || !l) return undefined
      return { service: toService(r), inst: l.inst, creds: credentialsOf(r) }
    },
  }
  const backups = createBackups({
    db,
    audit,
    clock,
    tenancy,
    secrets,
    dataDir: deps.dataDir,
    services: api,
    engines,
    ...(deps.logger ? { logger: deps.logger } : {}),
    ...(deps.holdMaintenance ? { holdMaintenance: deps.holdMaintenance } : {}),
    ...(deps.maintenanceOf ? { maintenanceOf: deps.maintenanceOf } : {}),
    ...(deps.setMaintenance ? { setMaintenance: deps.setMaintenance } : {}),
    ...(deps.backupImportLimit ? { importLimitBytes: deps.backupImportLimit } : {}),
    ...(deps.files ? { files: deps.files } : {}),
  })
  return {
    ...api,
    backups,
    /**
     * What deleting the environment would destroy on this side: its services (`mariadb main`) and the
     * number of its backups. Internal: no principal (the caller authorized the deletion).
     */
    async inventory(environmentId: string): Promise<{ services: string[]; backups: number }> {
      const rows = await db
        .selectFrom('services')
        .select(['type', 'name'])
        .where('environment_id', '=', environmentId)
        .orderBy('name')
        .execute()
      const count = await db
        .selectFrom('backups')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('environment_id', '=', environmentId)
        .executeTakeFirstOrThrow()
      return { services: rows.map((r) => `${r.type} ${r.name}`), backups: Number(count.n) }
    },
    async stopAll(): Promise<void> {
      await backups.close()
      await api.stopAll()
    },
  }
}
export type Services = ReturnType<typeof createServices>
/** The service operations backups build on. */
export type ServiceOps = Omit<Services, 'backups' | 'inventory'>
