import { authorize, actorOf, type Action, type Principal } from '../iam/index.js'
import { diffChanges } from '../audit/index.js'
import { isUniqueViolation, type EnvironmentsTable } from '../store/index.js'
import type { RequestContext } from '../shared/context.js'
import { ConflictError, NotFoundError } from '../shared/errors.js'
import { newId } from '../shared/ids.js'
import { decodeCursor, pageLimit, pageOf, type Page, type PageRequest, type TenancyDeps } from './deps.js'
import { TENANCY_ERRORS } from './errors.js'
import { defaultHost } from './hosts.js'
import type { TenancyEvents } from './events.js'
import {
  assertBranch,
  assertName,
  assertPersistentDir,
  assertRuntime,
  assertTimeZone,
  invalid,
} from './validate.js'

export const CRITICALITIES = ['production', 'staging', 'development'] as const
export type Criticality = (typeof CRITICALITIES)[number]
/** The runtime channels an environment may be on (the runtimes capability plans by them). */
export const RUNTIME_CHANNELS = ['stable', 'deprecated'] as const
export type RuntimeChannel = (typeof RUNTIME_CHANNELS)[number]
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const

export interface Sizing {
  readonly instances: number
  readonly memoryMb: number
  readonly cpu: number
}

export interface MaintenanceWindow {
  readonly day: (typeof WEEKDAYS)[number]
  /** Local time `HH:MM` in `timezone`. */
  readonly start: string
  readonly durationMinutes: number
  readonly timezone: string
}

export interface Environment {
  readonly id: string
  readonly workspaceId: string
  readonly projectId: string
  readonly name: string
  readonly branch: string
  readonly criticality: Criticality
  readonly runtime: string
  /** `stable`, or `deprecated` once the customer chose to keep a major past its end of life. */
  readonly runtimeChannel: RuntimeChannel
  readonly host: string
  readonly sizing: Sizing
  readonly maintenanceWindow: MaintenanceWindow | null
  readonly persistentDirs: readonly string[]
  readonly healthCheckPath: string
  /** Where its processes may connect out (docs/isolation.md, "Egress"). */
  readonly egress: EgressSetting
  /** The edge's per-client request limit, or `off` (behind a proxy that throttles, say). */
  readonly throttle: ThrottleSetting
  readonly createdAt: string
  readonly updatedAt: string
}

export interface EnvironmentInput {
  readonly name: string
  readonly branch?: string
  readonly criticality?: Criticality
  readonly runtime?: string
  readonly runtimeChannel?: RuntimeChannel
  readonly sizing?: Partial<Sizing>
  readonly maintenanceWindow?: MaintenanceWindow | null
  readonly persistentDirs?: readonly string[]
  readonly healthCheckPath?: string
  readonly egress?: Partial<EgressSetting>
  /** null: back to the default. */
  readonly throttle?: ThrottleSetting | null
}

/**
 * Requests per second per client address (IPv6: per /64) with a burst, counted at the edge for each
 * environment; `off` lets every request through (a CDN or load balancer in front that limits instead).
 */
export type ThrottleSetting = { readonly requestsPerSecond: number; readonly burst: number } | 'off'

export const DEFAULT_THROTTLE: ThrottleSetting = Object.freeze({ requestsPerSecond: 100, burst: 200 })

/**
 * Outbound connections, through the egress gateway (always public addresses only): `public` any host,
 * `none` nothing, or a list of host names (`*.example.com` for subdomains). Builds also take `registries`
 * (the package registries the runtimes need).
 */
export interface EgressSetting {
  readonly app: 'public' | 'none' | readonly string[]
  readonly build: 'registries' | 'public' | 'none' | readonly string[]
}

export const DEFAULT_EGRESS: EgressSetting = Object.freeze({ app: 'public', build: 'registries' })
const EGRESS_HOST =
  /^(?=.{1,253}$)(\*\.)?[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/

export const DEFAULT_SIZING: Sizing = Object.freeze({ instances: 1, memoryMb: 512, cpu: 1 })
export const LIMITS = Object.freeze({
  environmentsPerProject: 50,
  persistentDirs: 20,
  instances: [1, 20],
  memoryMb: [64, 65536],
  cpu: [0.1, 16],
  maintenanceMinutes: [30, 720],
  egressHosts: 50,
  throttleRequestsPerSecond: 100_000,
  throttleBurst: 1_000_000,
})

export function toEnvironment(r: EnvironmentsTable): Environment {
  return {
    id: r.id,
    workspaceId: r.workspace_id,
    projectId: r.project_id,
    name: r.name,
    branch: r.branch,
    criticality: r.criticality as Criticality,
    runtime: r.runtime,
    runtimeChannel: r.runtime_channel as RuntimeChannel,
    host: r.host,
    sizing: JSON.parse(r.sizing) as Sizing,
    maintenanceWindow:
      r.maintenance_window === null ? null : (JSON.parse(r.maintenance_window) as MaintenanceWindow),
    persistentDirs: JSON.parse(r.persistent_dirs) as string[],
    healthCheckPath: r.health_check_path,
    egress:
      r.egress === null
        ? DEFAULT_EGRESS
        : { ...DEFAULT_EGRESS, ...(JSON.parse(r.egress) as Partial<EgressSetting>) },
    throttle: r.throttle === null ? DEFAULT_THROTTLE : (JSON.parse(r.throttle) as ThrottleSetting),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  }
}

function inRange(field: string, v: number, [min, max]: readonly number[]): void {
  if (!Number.isFinite(v) || v < (min as number) || v > (max as number))
    invalid(field, `must be between ${min} and ${max}`)
}

function validate(input: Partial<EnvironmentInput>): void {
  if (input.name !== undefined) assertName('name', input.name)
  if (input.branch !== undefined) assertBranch(input.branch)
  if (input.criticality !== undefined && !CRITICALITIES.includes(input.criticality))
    invalid('criticality', `must be one of ${CRITICALITIES.join(', ')}`)
  if (input.runtime !== undefined) assertRuntime('runtime', input.runtime)
  if (input.runtimeChannel !== undefined && !RUNTIME_CHANNELS.includes(input.runtimeChannel))
    invalid('runtimeChannel', `must be one of ${RUNTIME_CHANNELS.join(', ')}`)
  if (input.sizing) {
    if (input.sizing.instances !== undefined) {
      if (!Number.isInteger(input.sizing.instances)) invalid('sizing.instances', 'must be an integer')
      inRange('sizing.instances', input.sizing.instances, LIMITS.instances)
    }
    if (input.sizing.memoryMb !== undefined)
      inRange('sizing.memoryMb', input.sizing.memoryMb, LIMITS.memoryMb)
    if (input.sizing.cpu !== undefined) inRange('sizing.cpu', input.sizing.cpu, LIMITS.cpu)
  }
  const mw = input.maintenanceWindow
  if (mw) {
    if (!WEEKDAYS.includes(mw.day)) invalid('maintenanceWindow.day', `must be one of ${WEEKDAYS.join(', ')}`)
    if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(mw.start))
      invalid('maintenanceWindow.start', 'must be HH:MM (24-hour)')
    if (!Number.isInteger(mw.durationMinutes))
      invalid('maintenanceWindow.durationMinutes', 'must be an integer')
    inRange('maintenanceWindow.durationMinutes', mw.durationMinutes, LIMITS.maintenanceMinutes)
    assertTimeZone(mw.timezone)
  }
  if (input.persistentDirs !== undefined) {
    if (input.persistentDirs.length > LIMITS.persistentDirs)
      invalid('persistentDirs', `at most ${LIMITS.persistentDirs} directories`)
    for (const d of input.persistentDirs) assertPersistentDir(d)
    if (new Set(input.persistentDirs).size !== input.persistentDirs.length)
      invalid('persistentDirs', 'must not repeat a directory')
  }
  if (input.egress !== undefined) {
    const check = (field: string, value: unknown, words: readonly string[]): void => {
      if (typeof value === 'string') {
        if (!words.includes(value))
          invalid(field, `must be one of ${words.join(', ')}, or a list of host names`)
        return
      }
      if (!Array.isArray(value)) invalid(field, 'must be a word or a list of host names')
      const list = value as unknown[]
      if (list.length > LIMITS.egressHosts) invalid(field, `at most ${LIMITS.egressHosts} host names`)
      for (const h of list)
        if (typeof h !== 'string' || !EGRESS_HOST.test(h))
          invalid(
            field,
            `${JSON.stringify(h)} is not a host name (lower case; *.example.com for its subdomains)`,
          )
    }
    if (input.egress.app !== undefined) check('egress.app', input.egress.app, ['public', 'none'])
    if (input.egress.build !== undefined)
      check('egress.build', input.egress.build, ['registries', 'public', 'none'])
  }
  if (input.throttle !== undefined && input.throttle !== null && input.throttle !== 'off') {
    const t: unknown = input.throttle
    if (typeof t !== 'object' || t === null)
      invalid('throttle', 'must be {"requestsPerSecond", "burst"}, "off" or null')
    const { requestsPerSecond, burst } = t as { requestsPerSecond?: unknown; burst?: unknown }
    const whole = (v: unknown, min: number, max: number): boolean =>
      Number.isInteger(v) && (v as number) >= min && (v as number) <= max
    if (!whole(requestsPerSecond, 1, LIMITS.throttleRequestsPerSecond))
      invalid(
        'throttle.requestsPerSecond',
        `must be a whole number from 1 to ${LIMITS.throttleRequestsPerSecond} (or throttle "off")`,
      )
    if (!whole(burst, 1, LIMITS.throttleBurst))
      invalid('throttle.burst', `must be a whole number from 1 to ${LIMITS.throttleBurst}`)
  }
  if (
    input.healthCheckPath !== undefined &&
    !/^\/[A-Za-z0-9._~!$&'()*+,;=:@/%-]{0,255}$/.test(input.healthCheckPath)
  ) {
    invalid('healthCheckPath', 'must be an absolute URL path')
  }
}

function auditView(e: Environment): Record<string, unknown> {
  const { id: _id, workspaceId: _w, projectId: _p, createdAt: _c, updatedAt: _u, ...rest } = e
  return rest
}

const nameTaken = (name: string): ConflictError =>
  new ConflictError(TENANCY_ERRORS.nameTaken, `environment ${name} exists in this project`, {
    publicCode: 'conflict',
  })

export function createEnvironments(deps: TenancyDeps, events: TenancyEvents) {
  const { db, audit, clock } = deps
  const notFound = (what: string): NotFoundError =>
    new NotFoundError(TENANCY_ERRORS.notFound, `${what} not found`, { publicCode: 'not_found' })

  /** Loads an environment and authorizes `action` on it; production raises the bar (see iam/roles.ts). */
  async function load(principal: Principal, id: string, action: Action): Promise<EnvironmentsTable> {
    const row = await db.selectFrom('environments').selectAll().where('id', '=', id).executeTakeFirst()
    if (!row) throw notFound('environment')
    await authorize(db, principal, action, {
      type: 'environment',
      workspaceId: row.workspace_id,
      criticality: row.criticality,
    })
    return row
  }

  return {
    load,

    async list(principal: Principal, projectId: string, page: PageRequest): Promise<Page<Environment>> {
      const project = await db
        .selectFrom('projects')
        .select(['id', 'workspace_id'])
        .where('id', '=', projectId)
        .executeTakeFirst()
      if (!project) throw notFound('project')
      await authorize(db, principal, 'environment.read', {
        type: 'project',
        workspaceId: project.workspace_id,
      })
      const limit = pageLimit(page.limit)
      const after = page.cursor === undefined ? undefined : decodeCursor(page.cursor)
      let q = db.selectFrom('environments').selectAll().where('project_id', '=', projectId)
      if (after !== undefined) q = q.where('name', '>', after)
      const rows = await q
        .orderBy('name')
        .limit(limit + 1)
        .execute()
      return pageOf(rows.map(toEnvironment), limit, (e) => e.name)
    },

    async get(principal: Principal, id: string): Promise<Environment> {
      return toEnvironment(await load(principal, id, 'environment.read'))
    },

    async create(
      principal: Principal,
      ctx: RequestContext,
      projectId: string,
      input: EnvironmentInput,
    ): Promise<Environment> {
      const project = await db
        .selectFrom('projects')
        .innerJoin('workspaces', 'workspaces.id', 'projects.workspace_id')
        .select([
          'projects.id',
          'projects.name',
          'projects.workspace_id',
          'projects.default_runtime',
          'workspaces.name as workspace_name',
        ])
        .where('projects.id', '=', projectId)
        .executeTakeFirst()
      if (!project) throw notFound('project')
      const criticality = input.criticality ?? 'development'
      await authorize(db, principal, 'environment.create', {
        type: 'project',
        workspaceId: project.workspace_id,
        criticality,
      })
      validate(input)
      return db.transaction().execute(async (trx) => {
        const count = await trx
          .selectFrom('environments')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('project_id', '=', projectId)
          .executeTakeFirstOrThrow()
        if (Number(count.n) >= LIMITS.environmentsPerProject) {
          throw new ConflictError(
            TENANCY_ERRORS.tooMany,
            `a project holds at most ${LIMITS.environmentsPerProject} environments`,
            { publicCode: 'limit_reached' },
          )
        }
        const now = clock.now().toISOString()
        const row: EnvironmentsTable = {
          id: newId('env'),
          workspace_id: project.workspace_id,
          project_id: projectId,
          name: input.name,
          branch: input.branch ?? 'main',
          criticality,
          runtime: input.runtime ?? project.default_runtime,
          runtime_channel: input.runtimeChannel ?? 'stable',
          host: defaultHost(input.name, project.name, project.workspace_name, deps.baseDomain),
          sizing: JSON.stringify({ ...DEFAULT_SIZING, ...input.sizing }),
          maintenance_window: input.maintenanceWindow ? JSON.stringify(input.maintenanceWindow) : null,
          persistent_dirs: JSON.stringify(input.persistentDirs ?? []),
          health_check_path: input.healthCheckPath ?? '/',
          egress: input.egress ? JSON.stringify({ ...DEFAULT_EGRESS, ...input.egress }) : null,
          throttle: input.throttle ? JSON.stringify(input.throttle) : null,
          created_at: now,
          updated_at: now,
        }
        try {
          await trx.insertInto('environments').values(row).execute()
        } catch (error) {
          if (isUniqueViolation(error)) throw nameTaken(input.name)
          throw error
        }
        const env = toEnvironment(row)
        await audit.record(trx, {
          actor: actorOf(principal),
          action: 'environment.create',
          target: { type: 'environment', id: env.id },
          workspaceId: env.workspaceId,
          projectId,
          environmentId: env.id,
          changes: diffChanges(null, auditView(env)),
          context: ctx,
        })
        return env
      })
    },

    async update(
      principal: Principal,
      ctx: RequestContext,
      id: string,
      patch: Partial<EnvironmentInput>,
    ): Promise<Environment> {
      const before = await load(principal, id, 'environment.update')
      // Promoting an environment to production needs the production bar too.
      if (patch.criticality === 'production' && before.criticality !== 'production') {
        await authorize(db, principal, 'environment.update', {
          type: 'environment',
          workspaceId: before.workspace_id,
          criticality: 'production',
        })
      }
      validate(patch)
      const old = toEnvironment(before)
      const result = await db.transaction().execute(async (trx) => {
        const name = patch.name ?? old.name
        let host = old.host
        if (name !== old.name) {
          const names = await trx
            .selectFrom('projects')
            .innerJoin('workspaces', 'workspaces.id', 'projects.workspace_id')
            .select(['projects.name as project', 'workspaces.name as workspace'])
            .where('projects.id', '=', old.projectId)
            .executeTakeFirstOrThrow()
          host = defaultHost(name, names.project, names.workspace, deps.baseDomain)
        }
        const next: EnvironmentsTable = {
          ...before,
          name,
          host,
          branch: patch.branch ?? old.branch,
          criticality: patch.criticality ?? old.criticality,
          runtime: patch.runtime ?? old.runtime,
          runtime_channel: patch.runtimeChannel ?? old.runtimeChannel,
          sizing: JSON.stringify({ ...old.sizing, ...patch.sizing }),
          maintenance_window:
            patch.maintenanceWindow === undefined
              ? before.maintenance_window
              : patch.maintenanceWindow === null
                ? null
                : JSON.stringify(patch.maintenanceWindow),
          persistent_dirs:
            patch.persistentDirs === undefined
              ? before.persistent_dirs
              : JSON.stringify(patch.persistentDirs),
          health_check_path: patch.healthCheckPath ?? old.healthCheckPath,
          egress:
            patch.egress === undefined ? before.egress : JSON.stringify({ ...old.egress, ...patch.egress }),
          throttle:
            patch.throttle === undefined
              ? before.throttle
              : patch.throttle === null
                ? null
                : JSON.stringify(patch.throttle),
          updated_at: clock.now().toISOString(),
        }
        try {
          await trx.updateTable('environments').set(next).where('id', '=', id).execute()
        } catch (error) {
          if (isUniqueViolation(error)) throw nameTaken(name)
          throw error
        }
        const env = toEnvironment(next)
        await audit.record(trx, {
          actor: actorOf(principal),
          action: 'environment.update',
          target: { type: 'environment', id },
          workspaceId: env.workspaceId,
          projectId: env.projectId,
          environmentId: id,
          changes: diffChanges(auditView(old), auditView(env)),
          context: ctx,
        })
        return env
      })
      if (result.host !== old.host) await events.hostsChanged([id])
      return result
    },

    /**
     * Deletes an environment. One holding data (services, persistent directories, backups) needs `force`,
     * as a project with environments does: the refusal lists what would be lost.
     */
    async remove(principal: Principal, ctx: RequestContext, id: string, force = false): Promise<Environment> {
      const row = await load(principal, id, 'environment.delete')
      const env = toEnvironment(row)
      if (!force) {
        const held = await deps.environmentContents?.(id)
        const lost = [
          ...(held && held.services.length > 0 ? [`services ${held.services.join(', ')}`] : []),
          ...(env.persistentDirs.length > 0 ? [`persistent data in ${env.persistentDirs.join(', ')}`] : []),
          ...(held && held.backups > 0 ? [`${held.backups} backup${held.backups === 1 ? '' : 's'}`] : []),
        ]
        if (lost.length > 0) {
          throw new ConflictError(
            TENANCY_ERRORS.hasChildren,
            `environment ${env.name} holds data that deleting it destroys: ${lost.join('; ')}. Pass force=true (palisade envs delete --force) to delete it all`,
            { publicCode: 'conflict' },
          )
        }
      }
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom('environments').where('id', '=', id).execute()
        await audit.record(trx, {
          actor: actorOf(principal),
          action: 'environment.delete',
          target: { type: 'environment', id },
          workspaceId: env.workspaceId,
          projectId: env.projectId,
          environmentId: id,
          changes: diffChanges({ name: env.name, host: env.host }, null),
          context: ctx,
        })
      })
      return env
    },
  }
}

export type Environments = ReturnType<typeof createEnvironments>
