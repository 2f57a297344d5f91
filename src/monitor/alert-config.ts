import { diffChanges, type AuditLog } from '../audit/index.js'
import { actorOf, authorize, findWorkspaceId, type Principal } from '../iam/index.js'
import type { Clock } from '../shared/clock.js'
import type { RequestContext } from '../shared/context.js'
import { ConflictError, InvalidError, NotFoundError } from '../shared/errors.js'
import { newId } from '../shared/ids.js'
import type { SecretBox } from '../shared/secret-box.js'
import { isUniqueViolation, type Database, type Kysely } from '../store/index.js'
import { ALERT_RULE_NAMES, ALERT_RULES, DEFAULT_REPEAT_MINUTES, isAlertRule } from './alert-rules.js'
import { MONITOR_ERRORS } from './errors.js'
import { newWebhookSecret, webhookUrlProblem } from './webhooks.js'
import './tables.js'

export const MAX_CHANNELS = 20
const EMAIL_RE = /^[^\s@]{1,64}@[^\s@]{1,255}$/
const NAME_RE = /^[a-z][a-z0-9-]{1,62}$/

export interface AlertRuleView {
  readonly rule: string
  readonly description: string
  readonly threshold: number | null
  readonly defaultThreshold: number | null
  readonly muted: boolean
  readonly repeatMinutes: number
  readonly event: boolean
}

export interface ChannelView {
  readonly id: string
  readonly name: string
  readonly kind: 'email' | 'webhook'
  /** E-mail address or webhook URL. */
  readonly target: string
  readonly format: 'palisade' | 'slack' | null
  readonly createdAt: string
}

export interface ChannelInput {
  readonly name: string
  readonly kind: 'email' | 'webhook'
  readonly email?: string
  readonly url?: string
  readonly format?: 'palisade' | 'slack'
}

function bad(field: string, message: string, code: string = MONITOR_ERRORS.invalidChannel): never {
  throw new InvalidError(code, `${field} ${message}`, { details: [{ field, message }] })
}

function channelView(r: {
  id: string
  name: string
  kind: string
  target: string
  format: string
  created_at: string
}): ChannelView {
  return {
    id: r.id,
    name: r.name,
    kind: r.kind === 'email' ? 'email' : 'webhook',
    target: r.target,
    format: r.kind === 'webhook' ? (r.format === 'slack' ? 'slack' : 'palisade') : null,
    createdAt: r.created_at,
  }
}

/** Per-workspace alert tuning and channels: authorized (`alert.read` / `alert.manage`) and audited. */
export function createAlertConfig(deps: {
  readonly db: Kysely<Database>
  readonly audit: AuditLog
  readonly clock: Clock
  readonly secrets: SecretBox
}) {
  const { db, audit, clock, secrets } = deps

  async function workspace(
    principal: Principal,
    ref: string,
    action: 'alert.read' | 'alert.manage',
  ): Promise<string> {
    const workspaceId = await findWorkspaceId(db, ref)
    await authorize(db, principal, action, { type: 'workspace', workspaceId })
    return workspaceId
  }

  return {
    async rules(principal: Principal, wsRef: string): Promise<{ items: AlertRuleView[]; nextCursor: null }> {
      const ws = await workspace(principal, wsRef, 'alert.read')
      const rows = await db.selectFrom('alert_settings').selectAll().where('workspace_id', '=', ws).execute()
      const by = new Map(rows.map((r) => [r.rule, r]))
      return {
        items: ALERT_RULE_NAMES.map((rule) => {
          const def = ALERT_RULES[rule]
          const s = by.get(rule)
          return {
            rule,
            description: def.description,
            threshold: s?.threshold ?? def.threshold,
            defaultThreshold: def.threshold,
            muted: s?.muted === 1,
            repeatMinutes: s?.repeat_minutes ?? DEFAULT_REPEAT_MINUTES,
            event: def.event,
          }
        }),
        nextCursor: null,
      }
    },

    async tuneRule(
      principal: Principal,
      ctx: RequestContext,
      wsRef: string,
      rule: string,
      input: { threshold?: number | null; muted?: boolean; repeatMinutes?: number | null },
    ): Promise<AlertRuleView> {
      const ws = await workspace(principal, wsRef, 'alert.manage')
      if (!isAlertRule(rule))
        throw new NotFoundError(MONITOR_ERRORS.alertNotFound, 'no such alert rule', {
          publicCode: 'not_found',
        })
      const def = ALERT_RULES[rule]
      if (input.threshold !== undefined && input.threshold !== null) {
        if (def.min === null || def.max === null)
          bad('threshold', 'does not apply to this rule', MONITOR_ERRORS.invalidRule)
        if (!Number.isFinite(input.threshold) || input.threshold < def.min || input.threshold > def.max)
          bad('threshold', `must be from ${def.min} to ${def.max}`, MONITOR_ERRORS.invalidRule)
      }
      if (
        input.repeatMinutes !== undefined &&
        input.repeatMinutes !== null &&
        (!Number.isInteger(input.repeatMinutes) || input.repeatMinutes < 5 || input.repeatMinutes > 10_080)
      )
        bad('repeatMinutes', 'must be a whole number of minutes from 5 to 10080', MONITOR_ERRORS.invalidRule)
      return db.transaction().execute(async (trx) => {
        const before = await trx
          .selectFrom('alert_settings')
          .selectAll()
          .where('workspace_id', '=', ws)
          .where('rule', '=', rule)
          .executeTakeFirst()
        const next = {
          threshold: input.threshold === undefined ? (before?.threshold ?? null) : input.threshold,
          muted: input.muted === undefined ? (before?.muted ?? 0) : input.muted ? 1 : 0,
          repeat_minutes:
            input.repeatMinutes === undefined ? (before?.repeat_minutes ?? null) : input.repeatMinutes,
        }
        const at = clock.now().toISOString()
        if (before)
          await trx
            .updateTable('alert_settings')
            .set({ ...next, updated_at: at })
            .where('workspace_id', '=', ws)
            .where('rule', '=', rule)
            .execute()
        else
          await trx
            .insertInto('alert_settings')
            .values({ workspace_id: ws, rule, ...next, updated_at: at })
            .execute()
        await audit.record(trx, {
          actor: actorOf(principal),
          action: 'alert.rule.update',
          target: { type: 'alert_rule', id: rule },
          workspaceId: ws,
          changes: diffChanges(
            before
              ? {
                  threshold: before.threshold,
                  muted: before.muted === 1,
                  repeatMinutes: before.repeat_minutes,
                }
              : { threshold: null, muted: false, repeatMinutes: null },
            { threshold: next.threshold, muted: next.muted === 1, repeatMinutes: next.repeat_minutes },
          ),
          context: ctx,
        })
        return {
          rule,
          description: def.description,
          threshold: next.threshold ?? def.threshold,
          defaultThreshold: def.threshold,
          muted: next.muted === 1,
          repeatMinutes: next.repeat_minutes ?? DEFAULT_REPEAT_MINUTES,
          event: def.event,
        }
      })
    },

    async channels(principal: Principal, wsRef: string): Promise<{ items: ChannelView[]; nextCursor: null }> {
      const ws = await workspace(principal, wsRef, 'alert.read')
      const rows = await db
        .selectFrom('alert_channels')
        .selectAll()
        .where('workspace_id', '=', ws)
        .orderBy('name')
        .execute()
      return { items: rows.map(channelView), nextCursor: null }
    },

    /** Creates a channel; a webhook's signing secret is in this answer only (stored sealed, never shown again). */
    async createChannel(
      principal: Principal,
      ctx: RequestContext,
      wsRef: string,
      input: ChannelInput,
    ): Promise<ChannelView & { secret?: string }> {
      const ws = await workspace(principal, wsRef, 'alert.manage')
      if (!NAME_RE.test(input.name)) bad('name', 'must match ^[a-z][a-z0-9-]{1,62}$')
      let target: string
      if (input.kind === 'email') {
        if (input.url !== undefined || input.format !== undefined) bad('url', 'applies to webhooks only')
        if (input.email === undefined || !EMAIL_RE.test(input.email))
          bad('email', 'must be an e-mail address')
        target = input.email
      } else {
        if (input.email !== undefined) bad('email', 'applies to e-mail channels only')
        const problem = input.url === undefined ? 'is required' : webhookUrlProblem(input.url)
        if (problem) bad('url', problem)
        target = input.url as string
      }
      const id = newId('chn')
      const secret = input.kind === 'webhook' ? newWebhookSecret() : undefined
      const at = clock.now().toISOString()
      try {
        return await db.transaction().execute(async (trx) => {
          const count = await trx
            .selectFrom('alert_channels')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('workspace_id', '=', ws)
            .executeTakeFirst()
          if (Number(count?.n ?? 0) >= MAX_CHANNELS)
            throw new ConflictError(
              MONITOR_ERRORS.tooManyChannels,
              `a workspace has at most ${MAX_CHANNELS} alert channels`,
              { publicCode: 'limit_reached' },
            )
          const row = {
            id,
            workspace_id: ws,
            name: input.name,
            kind: input.kind,
            target,
            format: input.kind === 'webhook' ? (input.format ?? 'palisade') : 'text',
            secret: secret === undefined ? null : secrets.seal(secret, `alert_channel:${id}`),
            created_at: at,
          }
          await trx.insertInto('alert_channels').values(row).execute()
          await audit.record(trx, {
            actor: actorOf(principal),
            action: 'alert.channel.create',
            target: { type: 'alert_channel', id },
            workspaceId: ws,
            changes: diffChanges(
              null,
              {
                name: input.name,
                kind: input.kind,
                target,
                format: row.format,
                ...(secret ? { secret } : {}),
              },
              ['secret'],
            ),
            context: ctx,
          })
          return { ...channelView(row), ...(secret ? { secret } : {}) }
        })
      } catch (err) {
        if (isUniqueViolation(err))
          throw new ConflictError(MONITOR_ERRORS.invalidChannel, 'a channel with this name exists', {
            publicCode: 'conflict',
          })
        throw err
      }
    },

    async deleteChannel(principal: Principal, ctx: RequestContext, wsRef: string, id: string): Promise<void> {
      const ws = await workspace(principal, wsRef, 'alert.manage')
      await db.transaction().execute(async (trx) => {
        const row = await trx
          .selectFrom('alert_channels')
          .selectAll()
          .where('id', '=', id)
          .where('workspace_id', '=', ws)
          .executeTakeFirst()
        if (!row)
          throw new NotFoundError(MONITOR_ERRORS.channelNotFound, 'alert channel not found', {
            publicCode: 'not_found',
          })
        await trx.deleteFrom('alert_deliveries').where('channel_id', '=', id).execute()
        await trx.deleteFrom('alert_channels').where('id', '=', id).execute()
        await audit.record(trx, {
          actor: actorOf(principal),
          action: 'alert.channel.delete',
          target: { type: 'alert_channel', id },
          workspaceId: ws,
          changes: diffChanges({ name: row.name, kind: row.kind, target: row.target }, null),
          context: ctx,
        })
      })
    },

    async alerts(principal: Principal, wsRef: string, status?: 'firing' | 'resolved') {
      const ws = await workspace(principal, wsRef, 'alert.read')
      let q = db.selectFrom('alerts').selectAll().where('workspace_id', '=', ws)
      if (status) q = q.where('status', '=', status)
      const rows = await q.orderBy('started_at', 'desc').limit(200).execute()
      return {
        items: rows.map((r) => ({
          id: r.id,
          rule: r.rule,
          subject: r.subject,
          environmentId: r.environment_id,
          status: r.status,
          summary: r.summary,
          value: r.value,
          startedAt: r.started_at,
          lastNotifiedAt: r.last_notified_at,
          resolvedAt: r.resolved_at,
          notifications: r.notifications,
        })),
        nextCursor: null,
      }
    },

    async deliveries(principal: Principal, wsRef: string) {
      const ws = await workspace(principal, wsRef, 'alert.read')
      const rows = await db
        .selectFrom('alert_deliveries')
        .select([
          'id',
          'alert_id',
          'channel_id',
          'event',
          'title',
          'status',
          'attempts',
          'next_attempt_at',
          'response_status',
          'error',
          'created_at',
          'delivered_at',
        ])
        .where('workspace_id', '=', ws)
        .orderBy('created_at', 'desc')
        .limit(200)
        .execute()
      return {
        items: rows.map((r) => ({
          id: r.id,
          alertId: r.alert_id,
          channelId: r.channel_id,
          event: r.event,
          title: r.title,
          status: r.status,
          attempts: r.attempts,
          nextAttemptAt: r.next_attempt_at,
          responseStatus: r.response_status,
          error: r.error,
          createdAt: r.created_at,
          deliveredAt: r.delivered_at,
        })),
        nextCursor: null,
      }
    },
  }
}

export type AlertConfig = ReturnType<typeof createAlertConfig>
