import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import path from 'node:path'
import { diffChanges, type AuditLog } from '../../audit/index.js'
import { actorOf, authorize, PLATFORM, type Principal } from '../../iam/index.js'
import type { Database, Kysely } from '../../store/index.js'
import { TENANCY_ERRORS, projectCriticality, type Tenancy } from '../../tenancy/index.js'
import type { Clock } from '../../shared/clock.js'
import { PLATFORM_CONTEXT, type RequestContext } from '../../shared/context.js'
import { crashPoint } from '../../shared/crash-point.js'
import { writeFileDurably } from '../../shared/durable-file.js'
import { ConflictError, InvalidError, NotFoundError, UnprocessableError } from '../../shared/errors.js'
import { newId } from '../../shared/ids.js'
import type { Logger } from '../../shared/log.js'
import type { SecretBox } from '../../shared/secret-box.js'
import { createBackups, type StepOfAction } from '../backups.js'
import type { TenantFiles } from '../../shared/tenant-files.js'
import type { Engine, ServiceType } from '../engines/engine.js'
import type { Services } from '../services.js'
import type { ServicesTable } from '../tables.js'
import { readColumns } from './catalog.js'
import { SYNC_ERRORS } from './errors.js'
import { anonymizeThroughScratch, SCRATCH_PREFIX } from './scratch.js'
import {
  assertRuleSet,
  assertRulesNameExistingColumns,
  checkRulesAgainst,
  RULE_SERVICES,
  type AnonymizationRule,
  type ColumnInfo,
  type LabelledServiceColumns,
  type RuleService,
  type ServiceColumns,
} from './rules.js'
import type { SyncsTable } from './tables.js'

export const SYNC_STATUSES = ['running', 'succeeded', 'failed'] as const
export type SyncStatus = (typeof SYNC_STATUSES)[number]

/** One copy of an environment's data into another of the same project. */
export interface Sync {
  readonly id: string
  /** The target. */
  readonly environmentId: string
  readonly sourceEnvironmentId: string
  readonly status: SyncStatus
  readonly reason: string | null
  readonly services: readonly string[]
  readonly files: boolean
  /** Rules applied, summed over the copied services. */
  readonly rulesApplied: number
  /** The target's backup taken before anything was replaced (restore it to undo the sync). */
  readonly backupId: string | null
  readonly createdAt: string
  readonly finishedAt: string | null
}

export interface SyncInput {
  /** Source environment id (same project). */
  readonly from: string
  /**
   * Names of the source's services to copy, each into the target's service of the same name and type.
   * Default: every running MariaDB and PostgreSQL service. Redis is copied only when named (as is: it has no
   * schema to apply rules to, and its keys are often sessions that would be valid against the source's app).
   */
  readonly services?: readonly string[]
  /** Also copy the persistent directories both environments declare (default false). */
  readonly files?: boolean
}

export interface AnonymizationSettings {
  readonly projectId: string
  readonly rules: readonly AnonymizationRule[]
  readonly updatedAt: string | null
  /**
   * On save only, when there are any: indexes of rules whose table and column could not be checked (no running service of their
   * type in the project yet); they are checked at each sync.
   */
  readonly unchecked?: readonly number[]
}

export interface SyncDeps {
  /** Tenant-writable directories (persistent data), touched only as the environment's user. */
  readonly files?: TenantFiles
  readonly db: Kysely<Database>
  readonly audit: AuditLog
  readonly clock: Clock
  readonly tenancy: Tenancy
  readonly secrets: SecretBox
  readonly dataDir: string
  readonly services: Services
  readonly engines: Readonly<Record<ServiceType, Engine>>
  readonly logger?: Logger
  /** Maintenance mode on the target while its data is replaced (the deploy capability's `holdMaintenance`). */
  readonly holdMaintenance?: (environmentId: string) => Promise<() => Promise<void>>
  /** The target's maintenance flag (kept in the undo record) and setting it back after a crash's undo. */
  readonly maintenanceOf?: (environmentId: string) => Promise<boolean>
  readonly setMaintenance?: (environmentId: string, on: boolean) => Promise<unknown>
}

/**
 * Written (synced) before a sync replaces anything in its target, removed once the replacement is over: a
 * control plane that finds one at start restores the target from the sync's backup (taken just before) and
 * sets the maintenance flag back (docs/crash-safety.md). Root-only, under `<data>/sync-undo/`.
 */
interface SyncUndo {
  readonly v: 1
  readonly syncId: string
  readonly environmentId: string
  readonly backupId: string
  readonly maintenanceBefore: boolean
}

interface PlannedService {
  readonly name: string
  readonly type: ServiceType
  readonly sourceId: string
  readonly targetId: string
  readonly rules: readonly AnonymizationRule[]
  readonly columns: readonly ColumnInfo[]
}

interface Plan {
  readonly services: readonly PlannedService[]
  /** Persistent directories copied (declared by both environments). */
  readonly dirs: readonly string[]
  readonly key: Buffer | null
}

const keyContext = (projectId: string): string => `anonymization:${projectId}:key`
const isSql = (type: string): type is RuleService => (RULE_SERVICES as readonly string[]).includes(type)

/** The backup and the rollback a sync makes are steps of it: its one `environment.sync` event names the backup. */
const STEP_OF_SYNC: StepOfAction = { recordedByCaller: true }

function toSync(r: SyncsTable): Sync {
  return {
    id: r.id,
    environmentId: r.environment_id,
    sourceEnvironmentId: r.source_environment_id,
    status: r.status as SyncStatus,
    reason: r.reason,
    services: JSON.parse(r.services) as string[],
    files: r.files === 1,
    rulesApplied: r.rules_applied,
    backupId: r.backup_id,
    createdAt: r.created_at,
    finishedAt: r.finished_at,
  }
}

const message = (error: unknown): string =>
  (error instanceof Error ? error.message : String(error)).slice(0, 1000)

/**
 * Copies one environment's databases (and persistent directories) into another of the same project, with the
 * project's anonymization rules applied on the way. Asynchronous like backups: `create` validates everything
 * (access, services on both sides, every rule against the source's schema) and answers with status `running`;
 * poll `get`. The target is backed up first; if replacing its data fails, that backup is restored.
 */
export function createSync(deps: SyncDeps) {
  const { db, audit, clock, tenancy, secrets, services, engines } = deps
  const backups = createBackups({
    db,
    audit,
    clock,
    tenancy,
    secrets,
    dataDir: deps.dataDir,
    services,
    engines,
    ...(deps.logger ? { logger: deps.logger } : {}),
    ...(deps.holdMaintenance ? { holdMaintenance: deps.holdMaintenance } : {}),
    ...(deps.maintenanceOf ? { maintenanceOf: deps.maintenanceOf } : {}),
    ...(deps.files ? { files: deps.files } : {}),
    recoversLeftovers: false,
  })
  const work = new Map<string, Promise<void>>()
  const undoDir = path.join(deps.dataDir, 'sync-undo')
  const undoFileOf = (syncId: string): string => path.join(undoDir, `${syncId}.json`)
  /** Undo records an earlier control plane left (read by `recover`, acted on by `undoInterrupted`). */
  let leftUndos: SyncUndo[] = []
  /** Environments a running sync reads or writes. */
  const busy = new Set<string>()
  const workDirOf = (id: string): string => path.join(deps.dataDir, 'sync', id)
  const notFound = (): NotFoundError =>
    new NotFoundError(SYNC_ERRORS.notFound, 'sync not found', { publicCode: 'not_found' })

  async function loadProject(
    principal: Principal,
    projectId: string,
    action: 'project.read' | 'project.update',
  ) {
    const p = await db
      .selectFrom('projects')
      .select(['id', 'workspace_id'])
      .where('id', '=', projectId)
      .executeTakeFirst()
    if (!p) throw new NotFoundError(TENANCY_ERRORS.notFound, 'project not found', { publicCode: 'not_found' })
    // The rules govern what leaves production in a production → staging copy: production's bar when it exists.
    const criticality = action === 'project.update' ? await projectCriticality(db, projectId) : undefined
    await authorize(db, principal, action, {
      type: 'project',
      workspaceId: p.workspace_id,
      ...(criticality ? { criticality } : {}),
    })
    return p
  }

  async function rulesOf(projectId: string): Promise<{ rules: AnonymizationRule[]; key: Buffer | null }> {
    const r = await db
      .selectFrom('anonymization_rules')
      .selectAll()
      .where('project_id', '=', projectId)
      .executeTakeFirst()
    if (!r) return { rules: [], key: null }
    return {
      rules: JSON.parse(r.rules) as AnonymizationRule[],
      key: Buffer.from(secrets.open(r.hash_key, keyContext(projectId)), 'base64'),
    }
  }

  /**
   * The columns of every running MariaDB and PostgreSQL service of the project's environments, read through
   * the same catalog queries a sync runs (as the service's admin, in its sandbox). A service that cannot be
   * read (stopped meanwhile) is left out.
   */
  async function projectCatalogs(projectId: string): Promise<LabelledServiceColumns[]> {
    const rows = await db
      .selectFrom('services')
      .innerJoin('environments', 'environments.id', 'services.environment_id')
      .select(['services.id', 'services.name', 'services.type', 'environments.name as envName'])
      .where('environments.project_id', '=', projectId)
      .where('services.status', '=', 'running')
      .where('services.type', 'in', [...RULE_SERVICES])
      .orderBy('environments.name')
      .orderBy('services.name')
      .execute()
    const out: LabelledServiceColumns[] = []
    for (const r of rows) {
      const access = await services.adminAccess(r.id)
      if (!access) continue
      try {
        out.push({
          name: r.name,
          type: r.type as RuleService,
          label: `${r.envName}/${r.name}`,
          columns: await readColumns(r.type as RuleService, access.inst, access.creds),
        })
      } catch (error) {
        deps.logger?.warn(
          { service: r.id, err: message(error) },
          'reading a service catalog to check anonymization rules failed; its rules are checked at sync',
        )
      }
    }
    return out
  }

  const summary = (rules: readonly AnonymizationRule[]): string[] =>
    // Methods only: a constant's value is the customer's and could be anything.
    rules.map((r) => `${r.service}:${r.table}.${r.column}=${r.method}`)

  async function plan(
    target: { id: string; persistent_dirs: string },
    source: { id: string; project_id: string; persistent_dirs: string },
    input: SyncInput,
  ): Promise<Plan> {
    const [sourceRows, targetRows] = (await Promise.all(
      [source.id, target.id].map((id) =>
        db.selectFrom('services').selectAll().where('environment_id', '=', id).orderBy('name').execute(),
      ),
    )) as [ServicesTable[], ServicesTable[]]
    const names =
      input.services ?? sourceRows.filter((s) => s.status === 'running' && isSql(s.type)).map((s) => s.name)
    const chosen = names.map((name) => {
      const s = sourceRows.find((x) => x.name === name)
      if (!s)
        throw new InvalidError(
          SYNC_ERRORS.invalidField,
          `services: the source has no service named ${name}`,
          {
            details: [{ field: 'services', message: `the source has no service named ${name}` }],
          },
        )
      const t = targetRows.find((x) => x.name === name)
      if (!t || t.type !== s.type)
        throw new UnprocessableError(
          SYNC_ERRORS.noTargetService,
          `the target has no ${s.type} service named ${name}; create it first`,
          {
            publicCode: 'no_target_service',
            details: [{ field: 'services', message: `no ${s.type} ${name} in the target` }],
          },
        )
      for (const [side, row] of [
        ['source', s],
        ['target', t],
      ] as const)
        if (row.status !== 'running')
          throw new ConflictError(SYNC_ERRORS.notRunning, `the ${side}'s service ${name} is ${row.status}`, {
            publicCode: 'service_not_running',
          })
      return { s, t }
    })
    const targetDirs = new Set(JSON.parse(target.persistent_dirs) as string[])
    const dirs =
      input.files === true
        ? (JSON.parse(source.persistent_dirs) as string[]).filter((d) => targetDirs.has(d))
        : []
    if (chosen.length === 0 && dirs.length === 0)
      throw new UnprocessableError(
        SYNC_ERRORS.nothingToSync,
        input.files === true
          ? 'nothing to copy: no running MariaDB or PostgreSQL service in the source and no persistent directory both environments declare'
          : 'nothing to copy: no running MariaDB or PostgreSQL service in the source (name Redis services explicitly, or ask for files)',
        { publicCode: 'nothing_to_sync' },
      )
    const { rules, key } = await rulesOf(source.project_id)
    const sql = chosen.filter(({ s }) => isSql(s.type))
    const catalogs: ServiceColumns[] = []
    for (const { s } of sql) {
      const access = await services.adminAccess(s.id)
      if (!access)
        throw new ConflictError(SYNC_ERRORS.notRunning, `the source's service ${s.name} is not running`, {
          publicCode: 'service_not_running',
        })
      catalogs.push({
        name: s.name,
        type: s.type as RuleService,
        columns: await readColumns(s.type as RuleService, access.inst, access.creds),
      })
    }
    // Every rule is checked against the source's schema before anything is copied (422 naming the bad ones).
    const applied = checkRulesAgainst(rules, catalogs)
    return {
      services: chosen.map(({ s, t }) => ({
        name: s.name,
        type: s.type as ServiceType,
        sourceId: s.id,
        targetId: t.id,
        rules: applied.get(s.name) ?? [],
        columns: catalogs.find((c) => c.name === s.name)?.columns ?? [],
      })),
      dirs,
      key,
    }
  }

  async function setRow(id: string, patch: Partial<SyncsTable>): Promise<void> {
    await db.updateTable('syncs').set(patch).where('id', '=', id).execute()
  }

  function readUndos(): SyncUndo[] {
    const out: SyncUndo[] = []
    for (const name of existsSync(undoDir) ? readdirSync(undoDir) : []) {
      if (!name.endsWith('.json')) {
        rmSync(path.join(undoDir, name), { force: true })
        continue
      }
      try {
        const u = JSON.parse(readFileSync(path.join(undoDir, name), 'utf8')) as SyncUndo
        if (u.v === 1 && `${u.syncId}.json` === name) out.push(u)
      } catch {
        rmSync(path.join(undoDir, name), { force: true })
      }
    }
    return out
  }

  async function run(row: SyncsTable, p: Plan, ctx: RequestContext): Promise<void> {
    const dir = workDirOf(row.id)
    rmSync(dir, { recursive: true, force: true })
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    try {
      // 1. Read and anonymize everything first: a failure here changes nothing in the target.
      const dumps: Array<{ service: PlannedService; file: string }> = []
      for (const s of p.services) {
        const engine = engines[s.type]
        const clear = path.join(dir, `${s.name}.source.${engine.dumpExtension}`)
        const file = path.join(dir, `${s.name}.${engine.dumpExtension}`)
        const source = await services.exclusive(s.sourceId, async ({ inst, creds }) => {
          await engine.dump(inst, creds, clear)
          return { inst, database: creds.database }
        })
        // Rules that all say `keep` change nothing: no throwaway server for them.
        if (s.rules.some((r) => r.method !== 'keep') && isSql(s.type) && p.key) {
          try {
            await anonymizeThroughScratch({
              engine,
              type: s.type,
              parentDir: path.dirname(source.inst.dir),
              runAs: source.inst.runAs,
              database: source.database,
              sourceDump: clear,
              outFile: file,
              rules: s.rules,
              columns: s.columns,
              key: p.key,
            })
          } catch (error) {
            // Server errors quote values ("Duplicate entry '…'"): clear source data must not reach the sync's
            // reason, which the target's readers see.
            // The client also echoes the failing statement: only its ERROR line is kept.
            const text = message(error)
            const line = /^ERROR .*$/m.exec(text)?.[0] ?? text
            throw new Error(`anonymizing ${s.name} failed: ${line.replace(/'[^']*'/g, "'…'")}`)
          } finally {
            rmSync(clear, { force: true })
          }
        } else {
          renameSync(clear, file)
        }
        dumps.push({ service: s, file })
      }
      for (const d of p.dirs) {
        const dst = path.join(dir, 'files', d)
        mkdirSync(path.dirname(dst), { recursive: true, mode: 0o700 })
        // Packed by the source environment's user in its sandbox; symbolic links are left out.
        await backups.copyPersistentOut(row.source_environment_id, d, dst)
      }

      // 2. The target's current data, so the sync can be undone (and is, if step 3 fails).
      const backup = await backups.create(
        PLATFORM,
        ctx,
        row.environment_id,
        {
          services: p.services.map((s) => s.name),
          files: p.dirs.length > 0,
        },
        STEP_OF_SYNC,
      )
      await setRow(row.id, { backup_id: backup.id })
      await backups.settled(backup.id)
      const made = await backups.get(PLATFORM, backup.id)
      if (made.status !== 'succeeded')
        throw new Error(`the target's backup failed (${made.reason ?? 'no reason'}); nothing was changed`)

      // 3. Replace the target's data, in maintenance mode. A crash from here on is undone at the next start.
      const undo: SyncUndo = {
        v: 1,
        syncId: row.id,
        environmentId: row.environment_id,
        backupId: backup.id,
        maintenanceBefore: deps.maintenanceOf ? await deps.maintenanceOf(row.environment_id) : false,
      }
      mkdirSync(undoDir, { recursive: true, mode: 0o700 })
      writeFileDurably(undoFileOf(row.id), JSON.stringify(undo))
      crashPoint('sync.backed-up')
      let keepUndo = false
      const release = deps.holdMaintenance ? await deps.holdMaintenance(row.environment_id) : undefined
      try {
        try {
          for (const { service, file } of dumps) {
            await services.exclusive(service.targetId, ({ inst, creds, control }) =>
              engines[service.type].restore(inst, creds, file, control),
            )
            crashPoint('sync.service-replaced')
          }
          // Unpacked by the target environment's user in its sandbox.
          for (const d of p.dirs)
            await backups.copyPersistentIn(row.environment_id, d, path.join(dir, 'files', d))
        } catch (error) {
          let outcome = `the target was restored from backup ${backup.id}`
          try {
            await backups.restore(PLATFORM, ctx, backup.id, STEP_OF_SYNC)
          } catch (undoError) {
            // Kept: the next start tries again.
            keepUndo = true
            outcome = `restoring backup ${backup.id} failed too (${message(undoError)}); restore it by hand`
          }
          throw new Error(`${message(error)}; ${outcome}`, { cause: error })
        }
      } finally {
        await release?.()
        if (!keepUndo) rmSync(undoFileOf(row.id), { force: true })
      }
      await setRow(row.id, { status: 'succeeded', finished_at: clock.now().toISOString() })
      deps.logger?.info({ sync: row.id, environment: row.environment_id }, 'sync finished')
    } catch (error) {
      deps.logger?.error({ sync: row.id, err: message(error) }, 'sync failed')
      await setRow(row.id, {
        status: 'failed',
        reason: message(error),
        finished_at: clock.now().toISOString(),
      }).catch(() => undefined)
    } finally {
      // Clear dumps may be in here: they never outlive the sync.
      rmSync(dir, { recursive: true, force: true })
    }
  }

  return {
    async getRules(principal: Principal, projectId: string): Promise<AnonymizationSettings> {
      await loadProject(principal, projectId, 'project.read')
      const r = await db
        .selectFrom('anonymization_rules')
        .select(['rules', 'updated_at'])
        .where('project_id', '=', projectId)
        .executeTakeFirst()
      return {
        projectId,
        rules: r ? (JSON.parse(r.rules) as AnonymizationRule[]) : [],
        updatedAt: r?.updated_at ?? null,
      }
    },

    /**
     * Replaces the project's rules. Checked for shape, then each rule's table and column against the project's
     * running services of its type (422 naming the missing ones; nothing saved), and fully against the source's
     * schema at each sync. The first save creates the project's random HMAC key, sealed with the master key; it
     * never leaves the control plane.
     */
    async putRules(
      principal: Principal,
      ctx: RequestContext,
      projectId: string,
      rules: readonly AnonymizationRule[],
    ): Promise<AnonymizationSettings> {
      const project = await loadProject(principal, projectId, 'project.update')
      assertRuleSet(rules)
      const clean = rules.map((r) => ({
        service: r.service,
        table: r.table,
        column: r.column,
        method: r.method,
        ...(r.method === 'constant' ? { value: r.value } : {}),
      }))
      const unchecked =
        clean.length === 0 ? [] : assertRulesNameExistingColumns(clean, await projectCatalogs(projectId))
      const now = clock.now().toISOString()
      await db.transaction().execute(async (trx) => {
        const before = await trx
          .selectFrom('anonymization_rules')
          .select('rules')
          .where('project_id', '=', projectId)
          .executeTakeFirst()
        if (before)
          await trx
            .updateTable('anonymization_rules')
            .set({ rules: JSON.stringify(clean), updated_at: now })
            .where('project_id', '=', projectId)
            .execute()
        else
          await trx
            .insertInto('anonymization_rules')
            .values({
              project_id: projectId,
              workspace_id: project.workspace_id,
              rules: JSON.stringify(clean),
              hash_key: secrets.seal(randomBytes(32).toString('base64'), keyContext(projectId)),
              updated_at: now,
            })
            .execute()
        await audit.record(trx, {
          actor: actorOf(principal),
          action: 'project.anonymization.update',
          target: { type: 'project', id: projectId },
          workspaceId: project.workspace_id,
          projectId,
          changes: diffChanges(
            { rules: before ? summary(JSON.parse(before.rules) as AnonymizationRule[]) : [] },
            { rules: summary(clean) },
          ),
          context: ctx,
        })
      })
      return { projectId, rules: clean, updatedAt: now, ...(unchecked.length > 0 ? { unchecked } : {}) }
    },

    /** Validates and starts a sync into `environmentId`; answers at once with status `running`. */
    async create(
      principal: Principal,
      ctx: RequestContext,
      environmentId: string,
      input: SyncInput,
    ): Promise<Sync> {
      // Manage on the target, and on the source too: copying production data out of production needs the
      // production-level role (admin) even when the rules anonymize it, as changing production itself would.
      const target = await tenancy.environments.load(principal, environmentId, 'service.manage')
      const source = await tenancy.environments.load(principal, input.from, 'service.manage')
      if (source.id === target.id)
        throw new UnprocessableError(
          SYNC_ERRORS.sameEnvironment,
          'an environment cannot be synced from itself',
          {
            publicCode: 'same_environment',
          },
        )
      if (source.project_id !== target.project_id)
        throw new UnprocessableError(
          SYNC_ERRORS.otherProject,
          'data can only be synced between environments of the same project',
          { publicCode: 'other_project' },
        )
      for (const id of [target.id, source.id])
        if (busy.has(id))
          throw new ConflictError(SYNC_ERRORS.busy, 'a sync of this environment is already running', {
            publicCode: 'busy',
          })
      const p = await plan(target, source, input)
      // Checked again: planning awaited, and another sync may have started meanwhile.
      if (busy.has(target.id) || busy.has(source.id))
        throw new ConflictError(SYNC_ERRORS.busy, 'a sync of this environment is already running', {
          publicCode: 'busy',
        })
      const names = p.services.map((s) => s.name)
      const rulesApplied = p.services.reduce((n, s) => n + s.rules.length, 0)
      const row: SyncsTable = {
        id: newId('syn'),
        environment_id: target.id,
        source_environment_id: source.id,
        workspace_id: target.workspace_id,
        project_id: target.project_id,
        status: 'running',
        reason: null,
        services: JSON.stringify(names),
        files: p.dirs.length > 0 ? 1 : 0,
        rules_applied: rulesApplied,
        backup_id: null,
        created_at: clock.now().toISOString(),
        finished_at: null,
      }
      await db.transaction().execute(async (trx) => {
        await trx.insertInto('syncs').values(row).execute()
        await audit.record(trx, {
          actor: actorOf(principal),
          action: 'environment.sync',
          target: { type: 'sync', id: row.id },
          workspaceId: target.workspace_id,
          projectId: target.project_id,
          environmentId: target.id,
          changes: diffChanges(null, {
            from: source.id,
            services: names,
            files: p.dirs,
            rulesApplied: p.services.flatMap((s) => summary(s.rules).map((r) => `${s.name}/${r}`)),
          }),
          context: ctx,
        })
      })
      busy.add(target.id)
      busy.add(source.id)
      const job = run(row, p, ctx).finally(() => {
        busy.delete(target.id)
        busy.delete(source.id)
        work.delete(row.id)
      })
      work.set(row.id, job)
      return toSync(row)
    },

    async get(principal: Principal, id: string): Promise<Sync> {
      const r = await db.selectFrom('syncs').selectAll().where('id', '=', id).executeTakeFirst()
      if (!r) throw notFound()
      await tenancy.environments.load(principal, r.environment_id, 'service.read')
      return toSync(r)
    },

    async list(principal: Principal, environmentId: string): Promise<{ items: Sync[]; nextCursor: null }> {
      await tenancy.environments.load(principal, environmentId, 'service.read')
      const rows = await db
        .selectFrom('syncs')
        .selectAll()
        .where('environment_id', '=', environmentId)
        .orderBy('created_at', 'desc')
        .limit(100)
        .execute()
      return { items: rows.map(toSync), nextCursor: null }
    },

    /** Resolves when the sync `id` is no longer running here. */
    async settled(id: string): Promise<void> {
      await work.get(id)
    },

    /**
     * At start: syncs left `running` by a control plane that stopped mid-way are marked failed (their work
     * directory is gone with them; the target keeps whatever state it was left in, and its pre-sync backup).
     */
    async recover(): Promise<number> {
      leftUndos = readUndos()
      // No sync into (or out of) a target whose undo is pending: refused as busy until it is done.
      for (const u of leftUndos) busy.add(u.environmentId)
      const r = await db
        .updateTable('syncs')
        .set({
          status: 'failed',
          reason: 'interrupted: the control plane stopped during the sync',
          finished_at: clock.now().toISOString(),
        })
        .where('status', '=', 'running')
        .executeTakeFirst()
      rmSync(path.join(deps.dataDir, 'sync'), { recursive: true, force: true })
      // Scratch servers' directories (clear copies of source data) of an interrupted sync.
      const envs = path.join(deps.dataDir, 'envs')
      for (const env of existsSync(envs) ? readdirSync(envs) : []) {
        const dir = path.join(envs, env, 'services')
        for (const d of existsSync(dir) ? readdirSync(dir) : [])
          if (SCRATCH_PREFIX.test(d)) await deps.services.removeStrayInstance(env, d)
      }
      return Number(r.numUpdatedRows)
    },

    /**
     * At start, once the services run (after `recover`): a sync cut short while it replaced its target's data
     * is undone — the target is restored from the sync's backup (an `environment.backup.restore` event by the
     * platform) and its maintenance flag set back to what it was. Returns how many were undone; one that
     * cannot be undone keeps its record (and the target stays in maintenance) for the next start.
     */
    async undoInterrupted(): Promise<number> {
      let undone = 0
      for (const u of leftUndos) {
        try {
          await backups.restore(PLATFORM, PLATFORM_CONTEXT, u.backupId)
          await deps.setMaintenance?.(u.environmentId, u.maintenanceBefore)
          rmSync(undoFileOf(u.syncId), { force: true })
          await setRow(u.syncId, {
            reason: `interrupted: the control plane stopped during the sync; the target was restored from backup ${u.backupId}`,
          })
          undone++
          deps.logger?.warn(
            { sync: u.syncId, environment: u.environmentId, backup: u.backupId },
            'a sync interrupted by a control-plane restart was undone from its backup',
          )
        } catch (err) {
          deps.logger?.error(
            { err, sync: u.syncId, environment: u.environmentId, backup: u.backupId },
            'undoing an interrupted sync failed; the environment stays in maintenance',
          )
        } finally {
          busy.delete(u.environmentId)
        }
      }
      leftUndos = []
      return undone
    },

    /** Waits for syncs in flight (shutdown). */
    async close(): Promise<void> {
      await Promise.all([...work.values()].map((p) => p.catch(() => undefined)))
      await backups.close()
    },
  }
}
export type SyncService = ReturnType<typeof createSync>
