import type { AuditLog } from '../audit/index.js'
import { actorOf, authorize, type Principal } from '../iam/index.js'
import { PLATFORM_CONTEXT, type RequestContext } from '../shared/context.js'
import { ConflictError, NotFoundError } from '../shared/errors.js'
import type { Logger } from '../shared/log.js'
import type { Database, Kysely } from '../store/index.js'
import type { Condition } from './alert-engine.js'
import { MONITOR_ERRORS } from './errors.js'
import './tables.js'

/** What the status API shows of an environment's health (`failed`: its app crash-loops). */
export interface EnvironmentHealth {
  readonly status: 'ok' | 'failed'
  readonly failure: {
    readonly reason: 'crash_loop'
    readonly summary: string
    readonly since: string
    /** The deployment whose release was serving when the environment was marked. */
    readonly deploymentId: string | null
  } | null
}

export interface EnvironmentHealthDeps {
  readonly db: Kysely<Database>
  readonly audit: AuditLog
  readonly now: () => number
  /** The deployment whose release an environment serves now (deploy's `servingLogKey`). */
  readonly servingDeployment: (envId: string) => string | null
  readonly logger?: Logger
}

const PLATFORM_ACTOR = { type: 'platform', id: 'platform' } as const

/**
 * Marks environments `failed` while their app crash-loops (the same condition as the crash_loop alert, with
 * the workspace's threshold), and clears the mark when a deployment of the environment succeeds (a new release,
 * or a rollback, is what brings a crash-looping app back). Each mark and each clearing is one audit event by
 * the platform. The mark is stored (environment_failures), so it outlives a restart of the control plane.
 */
export function createEnvironmentHealth(deps: EnvironmentHealthDeps) {
  const { db, audit } = deps

  async function envRow(envId: string) {
    return db
      .selectFrom('environments')
      .select(['id', 'workspace_id', 'project_id', 'criticality'])
      .where('id', '=', envId)
      .executeTakeFirst()
  }

  /** Clears the marks a successful deployment ended; returns the environments cleared. */
  async function clearRecovered(): Promise<string[]> {
    const marks = await db.selectFrom('environment_failures').selectAll().limit(10_000).execute()
    const cleared: string[] = []
    for (const m of marks) {
      const dep = await db
        .selectFrom('deployments')
        .select(['id', 'finished_at'])
        .where('environment_id', '=', m.environment_id)
        .where('status', '=', 'succeeded')
        .where('finished_at', '>', m.since)
        .orderBy('finished_at', 'desc')
        .limit(1)
        .executeTakeFirst()
      if (!dep) continue
      const env = await envRow(m.environment_id)
      await db.transaction().execute(async (trx) => {
        const gone = await trx
          .deleteFrom('environment_failures')
          .where('environment_id', '=', m.environment_id)
          .where('since', '=', m.since)
          .executeTakeFirst()
        if (Number(gone.numDeletedRows) !== 1 || !env) return
        await audit.record(trx, {
          actor: PLATFORM_ACTOR,
          action: 'environment.recovered',
          target: { type: 'environment', id: env.id },
          workspaceId: env.workspace_id,
          projectId: env.project_id,
          environmentId: env.id,
          changes: {
            status: { before: 'failed', after: 'ok' },
            deploymentId: { before: m.deployment_id, after: dep.id },
          },
          context: PLATFORM_CONTEXT,
        })
      })
      cleared.push(m.environment_id)
      deps.logger?.info({ environmentId: m.environment_id, deploymentId: dep.id }, 'environment recovered')
    }
    return cleared
  }

  /** Marks the environments of `crash_loop` conditions `failed` (once); returns the environments marked. */
  async function markCrashLoops(found: readonly Condition[]): Promise<string[]> {
    const marked: string[] = []
    for (const c of found) {
      if (c.rule !== 'crash_loop' || !c.environmentId) continue
      const envId = c.environmentId
      const env = await envRow(envId)
      if (!env) continue
      const since = new Date(deps.now()).toISOString()
      const deploymentId = deps.servingDeployment(envId)
      const done = await db.transaction().execute(async (trx) => {
        const existing = await trx
          .selectFrom('environment_failures')
          .select('environment_id')
          .where('environment_id', '=', envId)
          .executeTakeFirst()
        if (existing) return false
        await trx
          .insertInto('environment_failures')
          .values({
            environment_id: envId,
            workspace_id: env.workspace_id,
            reason: 'crash_loop',
            summary: c.summary.slice(0, 500),
            deployment_id: deploymentId,
            since,
          })
          .execute()
        await audit.record(trx, {
          actor: PLATFORM_ACTOR,
          action: 'environment.failed',
          target: { type: 'environment', id: envId },
          workspaceId: env.workspace_id,
          projectId: env.project_id,
          environmentId: envId,
          changes: {
            status: { before: 'ok', after: 'failed' },
            reason: { before: null, after: 'crash_loop' },
            restarts: { before: null, after: c.value },
          },
          context: PLATFORM_CONTEXT,
        })
        return true
      })
      if (done) {
        marked.push(envId)
        deps.logger?.warn(
          { environmentId: envId, restarts: c.value },
          'environment marked failed: crash loop',
        )
      }
    }
    return marked
  }

  /**
   * Clears the `failed` mark by hand: whoever may deploy the environment (the same bar, production's included)
   * says its current release is trusted again. One audit event by the caller. An app still crash-looping is
   * marked again at the next round. Conflict when the environment is not marked.
   */
  async function clearByHand(
    principal: Principal,
    ctx: RequestContext,
    envId: string,
  ): Promise<{ status: 'ok'; failure: null }> {
    const env = await envRow(envId)
    const hidden = new NotFoundError('PAL_TENANCY_NOT_FOUND', 'environment not found', {
      publicCode: 'not_found',
    })
    if (!env) throw hidden
    await authorize(db, principal, 'deployment.create', {
      type: 'environment',
      workspaceId: env.workspace_id,
      criticality: env.criticality,
    })
    await db.transaction().execute(async (trx) => {
      const mark = await trx
        .selectFrom('environment_failures')
        .selectAll()
        .where('environment_id', '=', envId)
        .executeTakeFirst()
      if (!mark)
        throw new ConflictError(MONITOR_ERRORS.notFailed, 'the environment is not marked failed', {
          publicCode: 'conflict',
        })
      await trx
        .deleteFrom('environment_failures')
        .where('environment_id', '=', envId)
        .where('since', '=', mark.since)
        .execute()
      await audit.record(trx, {
        actor: actorOf(principal),
        action: 'environment.failure.clear',
        target: { type: 'environment', id: env.id },
        workspaceId: env.workspace_id,
        projectId: env.project_id,
        environmentId: env.id,
        changes: {
          status: { before: 'failed', after: 'ok' },
          reason: { before: mark.reason, after: null },
          since: { before: mark.since, after: null },
        },
        context: ctx,
      })
    })
    deps.logger?.info({ environmentId: envId }, 'failed mark cleared by hand')
    return { status: 'ok', failure: null }
  }

  return {
    clearByHand,
    /** One round: marks set by a successful deployment cleared first, then new crash loops marked. */
    async update(found: readonly Condition[]): Promise<void> {
      await clearRecovered()
      await markCrashLoops(found)
    },
    clearRecovered,
    markCrashLoops,
    /** The environment's health (the caller has authorized reading the environment). */
    async of(envId: string): Promise<EnvironmentHealth> {
      const m = await db
        .selectFrom('environment_failures')
        .selectAll()
        .where('environment_id', '=', envId)
        .executeTakeFirst()
      return m
        ? {
            status: 'failed',
            failure: {
              reason: 'crash_loop',
              summary: m.summary,
              since: m.since,
              deploymentId: m.deployment_id,
            },
          }
        : { status: 'ok', failure: null }
    },
  }
}

export type EnvironmentHealthWatch = ReturnType<typeof createEnvironmentHealth>
