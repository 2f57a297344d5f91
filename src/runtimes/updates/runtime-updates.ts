import { diffChanges, type AuditLog } from '../../audit/index.js'
import { actorOf, PLATFORM, type Principal } from '../../iam/index.js'
import { systemClock, type Clock } from '../../shared/clock.js'
import { PLATFORM_CONTEXT, type RequestContext } from '../../shared/context.js'
import { crashPoint } from '../../shared/crash-point.js'
import { newId } from '../../shared/ids.js'
import { UnprocessableError } from '../../shared/errors.js'
import {
  isUniqueViolation,
  type Database,
  type Kysely,
  type RuntimeUpdateStatesTable,
} from '../../store/index.js'
import type { Environment, Tenancy } from '../../tenancy/index.js'
import { RUNTIME_ERRORS } from '../errors.js'
import type { RuntimePlan } from '../planner.js'
import type { Runtimes } from '../runtimes.js'
import { parseRuntimeSetting } from '../setting.js'
import {
  decideRuntimeUpdate,
  postponeLimit,
  retryAfterFailure,
  type Notice,
  type SchedulerPolicy,
  type UpdateToApply,
} from './decide.js'

/** What the scheduler needs from deploy (structurally deploy's own methods; wired by the composition root). */
export interface RuntimeUpdateDeploy {
  currentRelease(envId: string): Promise<{
    readonly release: number
    readonly runtimeVersion: string | null
    readonly kind: 'process' | 'static'
    readonly deploymentId: string | null
  } | null>
  createRuntimeUpdate(
    envId: string,
    input: { id: string; version: string; changes: Record<string, unknown> },
  ): Promise<{ readonly id: string; readonly number: number }>
  findDeployment(id: string): Promise<
    | {
        readonly id: string
        readonly kind: string
        readonly status: string
        readonly reason: string | null
        readonly finishedAt: string | null
      }
    | undefined
  >
}

export interface RuntimeMailer {
  send(mail: { to: string; subject: string; text: string }): Promise<void>
}

export interface RuntimeUpdatesLogger {
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
}

export interface RuntimeUpdatesDeps {
  readonly db: Kysely<Database>
  readonly audit: AuditLog
  readonly tenancy: Tenancy
  readonly runtimes: Runtimes
  readonly deploy: RuntimeUpdateDeploy
  readonly mailer: RuntimeMailer
  /** Base of the links in e-mails (PALISADE_PUBLIC_URL). */
  readonly publicUrl: string
  readonly clock?: Clock
  readonly logger?: RuntimeUpdatesLogger
  readonly policy?: Partial<SchedulerPolicy>
}

/** The plan as the API shows it: with the stored postponement and the update in progress. */
export type RuntimePlanView = RuntimePlan & {
  readonly postponedUntil: string | null
  readonly retryAfter: string | null
  readonly updating: string | null
}

const DAY = 86_400_000
/** A postponement further out than this is refused whatever is pending (the planner clamps anyway). */
const MAX_POSTPONE_DAYS = 365
/** Postponing "far in the future" to read each step's cap from the planner. */
const FAR = 10 * 365 * DAY

const postponeError = (code: string, message: string): UnprocessableError =>
  new UnprocessableError(code, message, {
    details: [{ field: 'until', message }],
    publicCode: code === RUNTIME_ERRORS.postponeLimit ? 'postpone_limit' : 'unprocessable',
  })

/**
 * Automatic runtime updates (DESIGN.md §6, docs/runtimes.md): the scheduler that applies due plan steps by
 * a zero-downtime deployment of the same code on the new version (as the `platform` actor, audited, with
 * notifications to the workspace's owners and admins), and the customer's postponements within the
 * policy's limits.
 * @example const updates = createRuntimeUpdates({ db, audit, tenancy, runtimes, deploy, mailer, publicUrl }); const stop = updates.start({ intervalMs: 60_000 })
 */
export function createRuntimeUpdates(deps: RuntimeUpdatesDeps) {
  const { db, audit, tenancy, runtimes } = deps
  const clock = deps.clock ?? systemClock
  let ticking: Promise<void> | null = null

  async function stateOf(envId: string): Promise<RuntimeUpdateStatesTable | undefined> {
    return db
      .selectFrom('runtime_update_states')
      .selectAll()
      .where('environment_id', '=', envId)
      .executeTakeFirst()
  }

  /** Updates (or creates) the environment's state row inside `trx`. */
  async function saveState(
    trx: Kysely<Database>,
    env: Environment,
    patch: Partial<Omit<RuntimeUpdateStatesTable, 'environment_id' | 'workspace_id'>>,
  ): Promise<void> {
    const at = clock.now().toISOString()
    const existing = await trx
      .selectFrom('runtime_update_states')
      .select('environment_id')
      .where('environment_id', '=', env.id)
      .executeTakeFirst()
    if (existing)
      await trx
        .updateTable('runtime_update_states')
        .set({ ...patch, updated_at: at })
        .where('environment_id', '=', env.id)
        .execute()
    else
      await trx
        .insertInto('runtime_update_states')
        .values({
          environment_id: env.id,
          workspace_id: env.workspaceId,
          postponed_until: null,
          postponed_at: null,
          postponed_by: null,
          attempt_deployment_id: null,
          attempt_version: null,
          attempt_from: null,
          attempt_kind: null,
          retry_after: null,
          ...patch,
          updated_at: at,
        })
        .execute()
  }

  async function planOf(env: Environment, state: RuntimeUpdateStatesTable | undefined): Promise<RuntimePlan> {
    const until = state?.postponed_until
    return runtimes.planFor(env, until ? { postponedUntil: new Date(until) } : {})
  }

  // ------------------------------------------------------------------ notifications

  async function recipients(workspaceId: string): Promise<string[]> {
    const rows = await db
      .selectFrom('memberships')
      .innerJoin('users', 'users.id', 'memberships.user_id')
      .select('users.email')
      .where('memberships.workspace_id', '=', workspaceId)
      .where('memberships.role', 'in', ['owner', 'admin'])
      .orderBy('users.email')
      .execute()
    return rows.map((r) => r.email)
  }

  async function nameOf(env: Environment): Promise<string> {
    const project = await db
      .selectFrom('projects')
      .select('name')
      .where('id', '=', env.projectId)
      .executeTakeFirst()
    return `${project?.name ?? env.projectId}/${env.name}`
  }

  type Mail = { readonly key: string; readonly kind: string; readonly subject: string; readonly text: string }

  /** Sends one notification to the workspace's owners and admins, once: the key is claimed before sending. */
  async function notify(env: Environment, mail: Mail): Promise<void> {
    const to = await recipients(env.workspaceId)
    try {
      await db
        .insertInto('runtime_notifications')
        .values({
          environment_id: env.id,
          key: mail.key,
          kind: mail.kind,
          recipients: to.length,
          sent_at: clock.now().toISOString(),
        })
        .execute()
    } catch (err) {
      if (isUniqueViolation(err)) return
      throw err
    }
    try {
      const footer = `\n\nSee the plan: palisade runtime plan ${await nameOf(env)}\n${deps.publicUrl}\n`
      for (const address of to)
        await deps.mailer.send({ to: address, subject: mail.subject, text: mail.text + footer })
    } catch (err) {
      // Not sent: release the claim so that the next tick tries again.
      await db
        .deleteFrom('runtime_notifications')
        .where('environment_id', '=', env.id)
        .where('key', '=', mail.key)
        .execute()
      throw err
    }
  }

  async function noticeMail(env: Environment, notice: Notice): Promise<Mail> {
    const name = await nameOf(env)
    if (notice.kind === 'planned')
      return {
        key: notice.key,
        kind: 'planned',
        subject: `[Palisade] ${name}: node ${notice.version} is planned for ${notice.due}`,
        text: `The platform will move ${name} from node ${notice.from ?? '?'} to node ${notice.version} (${notice.stepKind} update) at ${notice.due}, by a zero-downtime deployment of the same code. If the new version fails its health check, the current release keeps serving.\n\nWhy: ${notice.reason}.\n\nTo hold it (within the policy's limits): palisade runtime postpone ${name} --until <date>`,
      }
    return {
      key: notice.key,
      kind: 'eol',
      subject:
        notice.status === 'reached'
          ? `[Palisade] ${name}: node ${notice.major} reached its end of life on ${notice.date}`
          : `[Palisade] ${name}: node ${notice.major} reaches its end of life on ${notice.date}`,
      text: `Node.js ${notice.major}, which ${name} runs on, ${notice.status === 'reached' ? 'reached' : 'reaches'} its end of life on ${notice.date}: no security fixes are published for it after that date, and the platform never changes a major on its own.\n\nChoose one of: ${notice.options.join(', ')}.`,
    }
  }

  // ------------------------------------------------------------------ scheduler

  /** Audits and notifies the outcome of a finished runtime update, once, and clears the attempt. */
  async function settle(env: Environment, state: RuntimeUpdateStatesTable): Promise<void> {
    const id = state.attempt_deployment_id as string
    const d = await deps.deploy.findDeployment(id)
    if (!d) {
      // The attempt was recorded, then the control plane stopped before the deployment was created: nothing
      // started and nothing was audited, so the attempt is cleared and the update is due again.
      await saveState(db, env, {
        attempt_deployment_id: null,
        attempt_version: null,
        attempt_from: null,
        attempt_kind: null,
      })
      deps.logger?.warn(
        { environmentId: env.id, deploymentId: id },
        'a runtime update was cut off before its deployment was created; it is tried again',
      )
      return
    }
    if (d.status !== 'succeeded' && d.status !== 'failed') return
    const ok = d.status === 'succeeded'
    const now = clock.now()
    const reason = d.reason ?? 'unknown'
    const retryAfter = ok ? null : retryAfterFailure(env.maintenanceWindow, now, deps.policy)
    await db.transaction().execute(async (trx) => {
      await saveState(trx, env, {
        attempt_deployment_id: null,
        attempt_version: null,
        attempt_from: null,
        attempt_kind: null,
        retry_after: retryAfter?.toISOString() ?? null,
      })
      await audit.record(trx, {
        actor: actorOf(PLATFORM),
        action: ok ? 'environment.runtime.update.succeed' : 'environment.runtime.update.fail',
        target: { type: 'deployment', id },
        workspaceId: env.workspaceId,
        projectId: env.projectId,
        environmentId: env.id,
        outcome: ok ? 'success' : 'failure',
        changes: diffChanges(
          { runtimeVersion: state.attempt_from ?? undefined },
          {
            runtimeVersion: ok ? (state.attempt_version ?? undefined) : (state.attempt_from ?? undefined),
            ...(ok
              ? {}
              : { attempted: state.attempt_version, reason, retryAfter: retryAfter?.toISOString() }),
          },
        ),
        context: PLATFORM_CONTEXT,
      })
    })
    deps.logger?.[ok ? 'info' : 'warn'](
      {
        environmentId: env.id,
        deploymentId: id,
        version: state.attempt_version,
        reason: ok ? undefined : reason,
      },
      ok ? 'runtime update applied' : 'runtime update failed; the previous release keeps serving',
    )
    const name = await nameOf(env)
    await notify(
      env,
      ok
        ? {
            key: `applied:${id}`,
            kind: 'applied',
            subject: `[Palisade] ${name} now runs on node ${state.attempt_version ?? '?'}`,
            text: `The platform moved ${name} from node ${state.attempt_from ?? '?'} to node ${state.attempt_version ?? '?'} (${state.attempt_kind ?? 'runtime'} update, deployment ${id}). The new release passed its health check before the edge switched to it.`,
          }
        : {
            key: `failed:${id}`,
            kind: 'failed',
            subject: `[Palisade] ${name}: the update to node ${state.attempt_version ?? '?'} failed; node ${state.attempt_from ?? '?'} keeps serving`,
            text: `The platform tried to move ${name} from node ${state.attempt_from ?? '?'} to node ${state.attempt_version ?? '?'} (deployment ${id}) and it failed: ${reason}.\n\nThe previous release keeps serving, unchanged. The update is not retried before ${retryAfter?.toISOString() ?? '?'} (the next maintenance window). Look at the log with: palisade logs ${name} --deployment ${id}`,
          },
    )
  }

  async function start(env: Environment, from: string, step: UpdateToApply): Promise<void> {
    // The attempt is recorded before its deployment exists (with the id the deployment will get): a crash
    // between the two leaves an attempt that `settle` clears, never a deployment whose outcome no one audits.
    const id = newId('dep')
    await saveState(db, env, {
      attempt_deployment_id: id,
      attempt_version: step.version,
      attempt_from: from,
      attempt_kind: step.kind,
    })
    crashPoint('runtime.update-recorded')
    let d: { readonly id: string; readonly number: number }
    try {
      d = await deps.deploy.createRuntimeUpdate(env.id, {
        id,
        version: step.version,
        changes: {
          runtimeVersion: { from, to: step.version },
          step: step.kind,
          due: step.due,
          reason: step.reason,
          outsideWindow: step.outsideWindow,
        },
      })
    } catch (err) {
      await saveState(db, env, {
        attempt_deployment_id: null,
        attempt_version: null,
        attempt_from: null,
        attempt_kind: null,
      })
      throw err
    }
    crashPoint('runtime.update-created')
    deps.logger?.info(
      { environmentId: env.id, deploymentId: d.id, from, to: step.version, kind: step.kind },
      'runtime update started',
    )
  }

  /** One environment: settle a finished attempt, send due notices, start a due update. */
  async function tickEnvironment(envId: string): Promise<void> {
    const env = await tenancy.environments.get(PLATFORM, envId)
    let state = await stateOf(envId)
    if (state?.attempt_deployment_id) {
      await settle(env, state)
      state = await stateOf(envId)
    }
    const current = await deps.deploy.currentRelease(envId)
    // Only environments running on a pinned version can be moved (static sites and custom runtimes never are).
    if (!current?.runtimeVersion || current.kind !== 'process') return
    const plan = await runtimes.planFor(env, {
      current: current.runtimeVersion,
      ...(state?.postponed_until ? { postponedUntil: new Date(state.postponed_until) } : {}),
    })
    const now = clock.now()
    let retryAfter = state?.retry_after ? new Date(state.retry_after) : null
    // A release the customer rolled back to is theirs until the window it happened in is over.
    if (current.deploymentId) {
      const serving = await deps.deploy.findDeployment(current.deploymentId)
      if (serving?.kind === 'rollback' && serving.finishedAt) {
        const hold = retryAfterFailure(env.maintenanceWindow, new Date(serving.finishedAt), deps.policy)
        if (!retryAfter || hold > retryAfter) retryAfter = hold
      }
    }
    const sent = await db
      .selectFrom('runtime_notifications')
      .select('key')
      .where('environment_id', '=', envId)
      .execute()
    const decision = decideRuntimeUpdate({
      plan,
      window: env.maintenanceWindow,
      now,
      retryAfter,
      inProgress: Boolean(state?.attempt_deployment_id),
      notified: new Set(sent.map((r) => r.key)),
      ...(deps.policy ? { policy: deps.policy } : {}),
    })
    for (const notice of decision.notices) await notify(env, await noticeMail(env, notice))
    if (decision.apply) await start(env, current.runtimeVersion, decision.apply)
  }

  async function tick(): Promise<void> {
    const envs = await db.selectFrom('environments').select(['id', 'runtime']).orderBy('id').execute()
    for (const e of envs) {
      let kind: string
      try {
        kind = parseRuntimeSetting(e.runtime).kind
      } catch {
        continue
      }
      if (kind === 'custom' || kind === 'static') continue
      try {
        await tickEnvironment(e.id)
      } catch (err) {
        deps.logger?.error({ err, environmentId: e.id }, 'runtime update scheduler: environment skipped')
      }
    }
  }

  /** One pass at a time: a slow pass is joined, never overlapped. */
  function runTick(): Promise<void> {
    ticking ??= tick().finally(() => (ticking = null))
    return ticking
  }

  async function planView(principal: Principal, envId: string): Promise<RuntimePlanView> {
    const env = await tenancy.environments.get(principal, envId)
    const state = await stateOf(envId)
    const plan = await planOf(env, state)
    return {
      ...plan,
      postponedUntil: state?.postponed_until ?? null,
      retryAfter: state?.retry_after ?? null,
      updating: state?.attempt_deployment_id ?? null,
    }
  }

  return {
    /** One pass over every environment (the interval calls it; tests call it directly). Passes never overlap. */
    tick: runTick,

    /** Runs `tick` every `intervalMs` (first pass at once); returns the stop function. */
    start(options: { intervalMs?: number } = {}): () => void {
      const run = (): void => {
        runTick().catch((err: unknown) => deps.logger?.error({ err }, 'runtime update scheduler failed'))
      }
      const timer = setInterval(run, options.intervalMs ?? 60_000)
      timer.unref()
      const first = setImmediate(run)
      return () => {
        clearInterval(timer)
        clearImmediate(first)
      }
    },

    /** The environment's plan with its postponement and update in progress (needs `environment.read`). */
    plan: planView,

    /**
     * Holds the environment's runtime updates until `until` (null: lifts the hold). Refused past the
     * policy's limit: a security release's 30-day deadline, or `maxPostponeWindows` windows after a patch
     * or minor update's normal date. Needs `environment.update`; writes one audit event.
     */
    async postpone(
      principal: Principal,
      ctx: RequestContext,
      envId: string,
      input: { until: string | null },
    ): Promise<RuntimePlanView> {
      await tenancy.environments.load(principal, envId, 'environment.update')
      const env = await tenancy.environments.get(PLATFORM, envId)
      const now = clock.now()
      let until: Date | null = null
      if (input.until !== null) {
        until = new Date(input.until)
        if (Number.isNaN(until.getTime()))
          throw postponeError(RUNTIME_ERRORS.postponeInvalid, 'until must be an ISO 8601 date or date-time')
        if (until.getTime() <= now.getTime())
          throw postponeError(RUNTIME_ERRORS.postponeInvalid, 'until must be in the future')
        if (until.getTime() > now.getTime() + MAX_POSTPONE_DAYS * DAY)
          throw postponeError(
            RUNTIME_ERRORS.postponeLimit,
            `updates cannot be postponed more than ${MAX_POSTPONE_DAYS} days`,
          )
        const far = await runtimes.planFor(env, { postponedUntil: new Date(now.getTime() + FAR) })
        const limit = postponeLimit(far)
        if (limit && until.getTime() > limit.getTime()) {
          const step = far.steps.find((s) => Date.parse(s.due) === limit.getTime())
          throw postponeError(
            RUNTIME_ERRORS.postponeLimit,
            `the ${step?.kind ?? ''} update to node ${step?.version ?? '?'} can be postponed until ${limit.toISOString()} at the latest (${step?.kind === 'security' ? 'security releases are applied at the latest 30 days after they are published' : 'patch and minor updates move by at most 4 maintenance windows'})`,
          )
        }
      }
      const before = await stateOf(envId)
      await db.transaction().execute(async (trx) => {
        await saveState(trx, env, {
          postponed_until: until?.toISOString() ?? null,
          postponed_at: until ? now.toISOString() : null,
          postponed_by: until ? actorOf(principal).id : null,
        })
        await audit.record(trx, {
          actor: actorOf(principal),
          action: 'environment.runtime.postpone',
          target: { type: 'environment', id: env.id },
          workspaceId: env.workspaceId,
          projectId: env.projectId,
          environmentId: env.id,
          changes: diffChanges(
            { postponedUntil: before?.postponed_until ?? undefined },
            { postponedUntil: until?.toISOString() },
          ),
          context: ctx,
        })
      })
      return planView(PLATFORM, envId)
    },
  }
}

export type RuntimeUpdates = ReturnType<typeof createRuntimeUpdates>
