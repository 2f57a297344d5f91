import { statfsSync } from 'node:fs'
import type { EdgeSnapshot } from '../edge/index.js'
import type { Mailer } from '../iam/index.js'
import type { SecretBox } from '../shared/secret-box.js'
import { newId } from '../shared/ids.js'
import type { Logger } from '../shared/log.js'
import type { RuntimeCatalog } from '../runtimes/index.js'
import type { Database, Kysely } from '../store/index.js'
import { ALERT_RULES, DEFAULT_REPEAT_MINUTES, isAlertRule, type AlertRuleName } from './alert-rules.js'
import type { LoginOutcome } from './api-metrics.js'
import { endOfLife } from './runtime-eol.js'
import { readCertificates, type AuditChainStatus, type ProcessReport } from './platform-metrics.js'
import { ID_HEADER, postWebhook, SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER } from './webhooks.js'
import './tables.js'

/** One thing that is wrong now (or happened, for event rules), for one workspace. */
export interface Condition {
  readonly workspaceId: string
  readonly rule: AlertRuleName
  /** What it is about within the rule: environment id, client address, host, `platform`, an event id. */
  readonly subject: string
  readonly environmentId: string | null
  readonly summary: string
  readonly value: number | null
}

export interface AlertEngineDeps {
  readonly db: Kysely<Database>
  readonly dataDir: string
  readonly mailer: Mailer
  readonly secrets: SecretBox
  readonly publicUrl: string
  readonly logger?: Logger
  readonly now: () => number
  readonly edge: () => EdgeSnapshot
  readonly logins: () => ReadonlyMap<LoginOutcome, number>
  readonly processes: () => Iterable<ProcessReport>
  /** Restarts of an environment's app within the crash-loop window (10 minutes). */
  readonly recentRestarts: (environmentId: string) => number
  readonly auditChain: AuditChainStatus
  /** The runtime catalog (end-of-life dates), as deploy and the runtime planner read it. */
  readonly runtimeCatalog: () => RuntimeCatalog
  /** Webhooks to loopback/private addresses (tests, on-premises receivers); default refused (SSRF). */
  readonly allowPrivateWebhooks?: boolean
}

/** Delivery attempts of one notification, and the wait before each retry (doubling). */
export const DELIVERY_ATTEMPTS = 6
export const RETRY_BASE_MS = 30_000
const WINDOW_MS = 5 * 60_000
/** Running this long without a restart ends a crash loop (and an app-down alert). */
export const UP_STABLE_MS = 10_000

interface Sample {
  readonly at: number
  /** env → [requests, 5xx] */
  readonly envs: Map<string, [number, number]>
  readonly failures: number
  readonly throttled: number
}

type Settings = Map<string, { threshold: number | null; muted: boolean; repeat: number | null }>

/**
 * Evaluates the built-in rules every round, keeps alerts (fire once, repeat on a schedule while they last,
 * resolve), and delivers notifications to each workspace's channels with retries (delivery history kept).
 */
export function createAlertEngine(deps: AlertEngineDeps) {
  const { db } = deps
  // Every counter starts at zero with the process: the first window is measured from the start.
  const samples: Sample[] = [{ at: deps.now(), envs: new Map(), failures: 0, throttled: 0 }]
  const downSince = new Map<string, number>()
  const lastRestarts = new Map<string, number>()
  const upSince = new Map<string, number>()
  let auditCursor = new Date(deps.now()).toISOString()
  let backupCursor = auditCursor

  function sample(now: number): Sample {
    const envs = new Map<string, [number, number]>()
    for (const [env, c] of Object.entries(deps.edge().environments)) {
      let total = 0
      let errors = 0
      for (let i = 0; i < c.requests.length; i++) {
        total += c.requests[i] ?? 0
        if (i % 5 === 4) errors += c.requests[i] ?? 0
      }
      envs.set(env, [total, errors])
    }
    const l = deps.logins()
    return { at: now, envs, failures: l.get('failure') ?? 0, throttled: l.get('throttled') ?? 0 }
  }

  async function operatorsWorkspace(): Promise<string | null> {
    const first = await db
      .selectFrom('workspaces')
      .select('id')
      .orderBy('created_at', 'asc')
      .orderBy('id', 'asc')
      .limit(1)
      .executeTakeFirst()
    return first?.id ?? null
  }

  async function settingsOf(): Promise<Settings> {
    const rows = await db.selectFrom('alert_settings').selectAll().execute()
    return new Map(
      rows.map((r) => [
        `${r.workspace_id} ${r.rule}`,
        { threshold: r.threshold, muted: r.muted === 1, repeat: r.repeat_minutes },
      ]),
    )
  }

  function thresholdOf(settings: Settings, ws: string, rule: AlertRuleName): number {
    return settings.get(`${ws} ${rule}`)?.threshold ?? (ALERT_RULES[rule].threshold as number | null) ?? 0
  }

  /** Every condition true now. */
  async function conditions(now: number, settings: Settings): Promise<Condition[]> {
    const out: Condition[] = []
    const envRows = await db
      .selectFrom('environments')
      .select(['id', 'workspace_id', 'name', 'runtime', 'runtime_channel'])
      .execute()
    const envs = new Map(envRows.map((e) => [e.id, e]))
    const operators = await operatorsWorkspace()

    // Apps: down for longer than the threshold; crash loops.
    const reports = [...deps.processes()]
    for (const p of reports) {
      const env = envs.get(p.environmentId)
      if (!env) continue
      // Up: running, and not restarted since the last round (a crash-looping app is running now and then).
      const restarted = p.restarts !== (lastRestarts.get(p.environmentId) ?? p.restarts)
      lastRestarts.set(p.environmentId, p.restarts)
      // Up again only after UP_STABLE_MS running without a restart: a crash-looping app is "running" for the
      // instants between its start and its next exit, and must not flap between firing and resolved.
      if (p.state === 'running' && !restarted) {
        if (!upSince.has(p.environmentId)) upSince.set(p.environmentId, now)
        if (now - (upSince.get(p.environmentId) as number) >= UP_STABLE_MS) downSince.delete(p.environmentId)
      } else {
        upSince.delete(p.environmentId)
        if (!downSince.has(p.environmentId)) downSince.set(p.environmentId, now)
      }
      const since = downSince.get(p.environmentId)
      if (since !== undefined && now - since >= thresholdOf(settings, env.workspace_id, 'app_down') * 1000)
        out.push({
          workspaceId: env.workspace_id,
          rule: 'app_down',
          subject: env.id,
          environmentId: env.id,
          summary: `the app of environment ${env.name} is down (${p.state}, ${p.restarts} restarts) for ${Math.round((now - since) / 1000)} s`,
          value: (now - since) / 1000,
        })
      // A crash loop lasts while the app keeps restarting; it is over once the app is up for a round.
      const recent = deps.recentRestarts(p.environmentId)
      if (since !== undefined && recent >= thresholdOf(settings, env.workspace_id, 'crash_loop'))
        out.push({
          workspaceId: env.workspace_id,
          rule: 'crash_loop',
          subject: env.id,
          environmentId: env.id,
          summary: `the app of environment ${env.name} is crash-looping (${recent} restarts in 10 minutes); the environment is marked failed until a deployment succeeds`,
          value: recent,
        })
    }
    for (const id of [...downSince.keys()])
      if (!reports.some((r) => r.environmentId === id)) downSince.delete(id)

    // 5xx rate and login figures over the last five minutes (from the samples kept each round).
    const current = sample(now)
    samples.push(current)
    while (samples.length > 1 && (samples[0] as Sample).at < now - WINDOW_MS) samples.shift()
    const base = samples[0] as Sample
    for (const [envId, [total, errors]] of current.envs) {
      const env = envs.get(envId)
      if (!env) continue
      const [t0, e0] = base.envs.get(envId) ?? [0, 0]
      const n = total - t0
      const pct = n > 0 ? ((errors - e0) / n) * 100 : 0
      if (n >= 20 && pct > thresholdOf(settings, env.workspace_id, 'error_rate'))
        out.push({
          workspaceId: env.workspace_id,
          rule: 'error_rate',
          subject: envId,
          environmentId: envId,
          summary: `${pct.toFixed(1)} % of ${n} requests to environment ${env.name} answered 5xx in 5 minutes`,
          value: pct,
        })
    }
    if (operators) {
      const failed = current.failures - base.failures
      if (failed >= thresholdOf(settings, operators, 'login_failures'))
        out.push({
          workspaceId: operators,
          rule: 'login_failures',
          subject: 'platform',
          environmentId: null,
          summary: `${failed} failed logins in 5 minutes (credential stuffing?)`,
          value: failed,
        })
      const throttled = current.throttled - base.throttled
      if (throttled >= thresholdOf(settings, operators, 'login_throttled'))
        out.push({
          workspaceId: operators,
          rule: 'login_throttled',
          subject: 'platform',
          environmentId: null,
          summary: `${throttled} logins throttled in 5 minutes`,
          value: throttled,
        })
    }

    // WAF blocks: per client address and per environment, against the threshold and the hourly baseline.
    const since5 = new Date(now - WINDOW_MS).toISOString()
    const since65 = new Date(now - 13 * WINDOW_MS).toISOString()
    // Grouped in the store (an index on `at`, migration 0018): never the rows themselves.
    const recentBy = new Map<string, number>()
    const baseBy = new Map<string, number>()
    for (const [from, to, into] of [
      [since5, null, recentBy],
      [since65, since5, baseBy],
    ] as const) {
      for (const by of ['client_ip', 'environment_id'] as const) {
        let q = db
          .selectFrom('waf_events')
          .select(['workspace_id', by, (eb) => eb.fn.countAll<number>().as('n')])
          .where('action', '=', 'block')
          .where('at', '>=', from)
        if (to !== null) q = q.where('at', '<', to)
        const rows = await q.groupBy(['workspace_id', by]).limit(10_000).execute()
        for (const r of rows) {
          const subject =
            by === 'client_ip'
              ? (r as { client_ip: string }).client_ip
              : (r as { environment_id: string }).environment_id
          into.set(`${by === 'client_ip' ? 'ip' : 'env'} ${r.workspace_id} ${subject}`, Number(r.n))
        }
      }
    }
    for (const [key, n] of recentBy) {
      const [kind, ws, subject] = key.split(' ') as [string, string, string]
      const baseline = (baseBy.get(key) ?? 0) / 12
      if (n < thresholdOf(settings, ws, 'waf_block_spike') || n < 10 * baseline) continue
      const env = kind === 'env' ? envs.get(subject) : undefined
      out.push({
        workspaceId: ws,
        rule: 'waf_block_spike',
        subject: kind === 'ip' ? `ip:${subject}` : `env:${subject}`,
        environmentId: env?.id ?? null,
        summary:
          kind === 'ip'
            ? `the WAF blocked ${n} requests from ${subject} in 5 minutes`
            : `the WAF blocked ${n} requests to environment ${env?.name ?? subject} in 5 minutes`,
        value: n,
      })
    }

    // Privileged changes (from the audit log, since the last round).
    const events = await db
      .selectFrom('audit_events')
      .select(['id', 'at', 'action', 'workspace_id', 'actor', 'target_id', 'changes', 'outcome'])
      .where('at', '>', auditCursor)
      .where('action', 'in', ['member.create', 'member.update', 'token.create', 'user.totp.disable'])
      .orderBy('at', 'asc')
      .limit(10_000)
      .execute()
    for (const e of events) {
      auditCursor = e.at > auditCursor ? e.at : auditCursor
      if (e.outcome !== 'success') continue
      const changes = JSON.parse(e.changes) as Record<string, { after?: unknown }>
      const actor = JSON.parse(e.actor) as { id: string; email?: string }
      const who = actor.email ?? actor.id
      if ((e.action === 'member.create' || e.action === 'member.update') && e.workspace_id) {
        const role = changes['role']?.after
        if (role === 'owner' || role === 'admin')
          out.push({
            workspaceId: e.workspace_id,
            rule: 'privileged_change',
            subject: e.id,
            environmentId: null,
            summary: `a member became ${role} (user ${e.target_id}, by ${who})`,
            value: null,
          })
      } else if (e.action === 'token.create') {
        const scopes = changes['scopes']?.after
        if (!Array.isArray(scopes) || !scopes.includes('admin')) continue
        const userId = (
          await db.selectFrom('api_tokens').select('user_id').where('id', '=', e.target_id).executeTakeFirst()
        )?.user_id
        if (!userId) continue
        for (const m of await db
          .selectFrom('memberships')
          .select(['workspace_id', 'role'])
          .where('user_id', '=', userId)
          .execute())
          if (m.role === 'owner' || m.role === 'admin')
            out.push({
              workspaceId: m.workspace_id,
              rule: 'privileged_change',
              subject: e.id,
              environmentId: null,
              summary: `an admin-scoped API token was created by ${who}, an ${m.role} of this workspace`,
              value: null,
            })
      } else if (e.action === 'user.totp.disable') {
        const rows = await db
          .selectFrom('memberships')
          .innerJoin('workspaces', 'workspaces.id', 'memberships.workspace_id')
          .select('workspaces.id as id')
          .where('memberships.user_id', '=', e.target_id)
          .where('workspaces.require_mfa', '=', 1)
          .execute()
        for (const r of rows)
          out.push({
            workspaceId: r.id,
            rule: 'privileged_change',
            subject: e.id,
            environmentId: null,
            summary: `two-factor authentication was turned off for a member (${who}) of this workspace, which requires it`,
            value: null,
          })
      }
    }

    // Audit chains that do not verify.
    if (deps.auditChain.ok === false)
      for (const chain of deps.auditChain.failing) {
        const ws = chain === 'platform' ? operators : chain
        if (ws)
          out.push({
            workspaceId: ws,
            rule: 'audit_chain',
            subject: chain,
            environmentId: null,
            summary: `the ${chain === 'platform' ? 'platform' : "workspace's"} audit chain does not verify`,
            value: null,
          })
      }

    // Operators: certificates, disk.
    if (operators) {
      for (const c of readCertificates(deps.dataDir)) {
        const days = (c.notAfter - now) / 86_400_000
        if (days < thresholdOf(settings, operators, 'certificate_expiry'))
          out.push({
            workspaceId: operators,
            rule: 'certificate_expiry',
            subject: `${c.source}:${c.host}`,
            environmentId: null,
            summary: `the certificate for ${c.host} expires in ${days.toFixed(1)} days`,
            value: days,
          })
      }
      const fs = statfsSync(deps.dataDir)
      const pct = fs.blocks > 0 ? ((fs.blocks - fs.bfree) / fs.blocks) * 100 : 0
      if (pct > thresholdOf(settings, operators, 'disk'))
        out.push({
          workspaceId: operators,
          rule: 'disk',
          subject: 'data-dir',
          environmentId: null,
          summary: `the data directory's file system is ${pct.toFixed(1)} % full`,
          value: pct,
        })
    }

    // Runtimes past (or near, as tuned) their end of life, from the catalog's dates.
    const catalog = runtimeCatalogOrNull()
    if (catalog)
      for (const env of envRows) {
        const eol = endOfLife(catalog, env.runtime, env.runtime_channel)
        if (!eol) continue
        const days = (Date.parse(`${eol.date}T00:00:00.000Z`) - now) / 86_400_000
        if (days > thresholdOf(settings, env.workspace_id, 'runtime_eol')) continue
        out.push({
          workspaceId: env.workspace_id,
          rule: 'runtime_eol',
          subject: env.id,
          environmentId: env.id,
          summary:
            days <= 0
              ? `environment ${env.name} runs ${eol.name} ${eol.major}, past its end of life (${eol.date}): no security fixes any more; upgrade it${env.runtime_channel === 'deprecated' ? ' (it is on the deprecated channel)' : ''}`
              : `environment ${env.name} runs ${eol.name} ${eol.major}, which reaches its end of life on ${eol.date} (in ${Math.ceil(days)} days)`,
          value: Math.round(-days * 10) / 10,
        })
      }

    // Backups: failed ones (events) and scheduled environments without a recent success.
    const failedBackups = await db
      .selectFrom('backups')
      .select(['id', 'workspace_id', 'environment_id', 'finished_at', 'reason'])
      .where('status', '=', 'failed')
      .where('finished_at', '>', backupCursor)
      .orderBy('finished_at', 'asc')
      .limit(10_000)
      .execute()
    for (const b of failedBackups) {
      if (b.finished_at && b.finished_at > backupCursor) backupCursor = b.finished_at
      out.push({
        workspaceId: b.workspace_id,
        rule: 'backup_failed',
        subject: b.id,
        environmentId: b.environment_id,
        summary: `a backup of environment ${envs.get(b.environment_id)?.name ?? b.environment_id} failed: ${(b.reason ?? 'see the backup').slice(0, 200)}`,
        value: null,
      })
    }
    const schedules = await db
      .selectFrom('backup_schedules')
      .select(['environment_id', 'workspace_id', 'every_hours', 'updated_at'])
      .where('enabled', '=', 1)
      .execute()
    for (const s of schedules) {
      const last = await db
        .selectFrom('backups')
        .select((eb) => eb.fn.max('finished_at').as('at'))
        .where('environment_id', '=', s.environment_id)
        .where('status', '=', 'succeeded')
        .executeTakeFirst()
      // Before the first success, the schedule's own start counts (a new schedule is not missing yet).
      const lastAt = Date.parse(String(last?.at ?? s.updated_at))
      const limitMs = thresholdOf(settings, s.workspace_id, 'backup_missing') * s.every_hours * 3_600_000
      if (now - lastAt > limitMs)
        out.push({
          workspaceId: s.workspace_id,
          rule: 'backup_missing',
          subject: s.environment_id,
          environmentId: s.environment_id,
          summary: `no successful backup of environment ${envs.get(s.environment_id)?.name ?? s.environment_id} for ${Math.round((now - lastAt) / 3_600_000)} h (schedule: every ${s.every_hours} h)`,
          value: (now - lastAt) / 3_600_000,
        })
    }
    return out
  }

  async function notify(
    alert: {
      id: string
      workspace_id: string
      rule: string
      subject: string
      environment_id: string | null
      summary: string
      value: number | null
      started_at: string
      resolved_at: string | null
    },
    event: 'firing' | 'repeat' | 'resolved',
  ): Promise<void> {
    const channels = await db
      .selectFrom('alert_channels')
      .selectAll()
      .where('workspace_id', '=', alert.workspace_id)
      .execute()
    if (channels.length === 0) return
    const ws = await db
      .selectFrom('workspaces')
      .select('name')
      .where('id', '=', alert.workspace_id)
      .executeTakeFirst()
    const at = new Date(deps.now()).toISOString()
    const word = event === 'resolved' ? 'RESOLVED' : 'FIRING'
    const title = `[${word}] ${alert.summary}`
    const body = {
      id: alert.id,
      event,
      rule: alert.rule,
      status: event === 'resolved' ? 'resolved' : 'firing',
      workspace: { id: alert.workspace_id, name: ws?.name ?? null },
      environmentId: alert.environment_id,
      subject: alert.subject,
      summary: alert.summary,
      value: alert.value,
      startedAt: alert.started_at,
      resolvedAt: alert.resolved_at,
      sentAt: at,
      url: `${deps.publicUrl}/v1/workspaces/${alert.workspace_id}/alerts`,
    }
    for (const c of channels) {
      const payload =
        c.kind === 'email'
          ? `${title}\n\nRule: ${alert.rule}\nWorkspace: ${ws?.name ?? alert.workspace_id}\nStarted: ${alert.started_at}\n${alert.resolved_at ? `Resolved: ${alert.resolved_at}\n` : ''}\nAlerts: ${body.url}\n`
          : c.format === 'slack'
            ? JSON.stringify({
                text: `${title} (${alert.rule}, workspace ${ws?.name ?? alert.workspace_id})`,
              })
            : JSON.stringify(body)
      await db
        .insertInto('alert_deliveries')
        .values({
          id: newId('dlv'),
          alert_id: alert.id,
          channel_id: c.id,
          workspace_id: alert.workspace_id,
          event,
          title: title.slice(0, 300),
          payload,
          status: 'pending',
          attempts: 0,
          next_attempt_at: at,
          response_status: null,
          error: null,
          created_at: at,
          delivered_at: null,
        })
        .execute()
    }
  }

  function runtimeCatalogOrNull(): RuntimeCatalog | null {
    try {
      return deps.runtimeCatalog()
    } catch (err) {
      // An invalid refreshed catalog is reported where it is read (runtimes); the other rules still run.
      deps.logger?.warn({ err }, 'runtime catalog unreadable: the runtime_eol rule is skipped this round')
      return null
    }
  }

  /**
   * One round: rules evaluated, alerts opened/repeated/resolved, notifications queued. Answers every condition
   * found (muted rules included: muting silences notifications, not what the environment's state is).
   */
  async function evaluate(): Promise<Condition[]> {
    const now = deps.now()
    const iso = new Date(now).toISOString()
    const settings = await settingsOf()
    const found = await conditions(now, settings)
    const open = await db.selectFrom('alerts').selectAll().where('status', '=', 'firing').execute()
    const openBy = new Map(open.map((a) => [`${a.workspace_id} ${a.rule} ${a.subject}`, a]))
    const seen = new Set<string>()
    for (const c of found) {
      const key = `${c.workspaceId} ${c.rule} ${c.subject}`
      if (seen.has(key)) continue
      seen.add(key)
      const s = settings.get(`${c.workspaceId} ${c.rule}`)
      if (s?.muted) continue
      const existing = openBy.get(key)
      const event = ALERT_RULES[c.rule].event
      if (!existing) {
        const row = {
          id: newId('alr'),
          workspace_id: c.workspaceId,
          rule: c.rule,
          subject: c.subject,
          environment_id: c.environmentId,
          status: event ? 'resolved' : 'firing',
          summary: c.summary.slice(0, 500),
          value: c.value,
          started_at: iso,
          last_notified_at: iso,
          resolved_at: event ? iso : null,
          notifications: 1,
        }
        await db.insertInto('alerts').values(row).execute()
        await notify(row, 'firing')
        continue
      }
      const repeatMs = (s?.repeat ?? DEFAULT_REPEAT_MINUTES) * 60_000
      if (now - Date.parse(existing.last_notified_at) >= repeatMs) {
        await db
          .updateTable('alerts')
          .set({
            last_notified_at: iso,
            notifications: existing.notifications + 1,
            summary: c.summary.slice(0, 500),
            value: c.value,
          })
          .where('id', '=', existing.id)
          .execute()
        await notify({ ...existing, summary: c.summary.slice(0, 500), value: c.value }, 'repeat')
      }
    }
    for (const [key, a] of openBy) {
      if (seen.has(key) && !settings.get(`${a.workspace_id} ${a.rule}`)?.muted) continue
      if (!isAlertRule(a.rule)) continue
      await db
        .updateTable('alerts')
        .set({ status: 'resolved', resolved_at: iso })
        .where('id', '=', a.id)
        .execute()
      // A muted rule's alerts end silently; a condition that is gone is announced.
      if (!settings.get(`${a.workspace_id} ${a.rule}`)?.muted)
        await notify({ ...a, resolved_at: iso }, 'resolved')
    }
    return found
  }

  /** Sends due notifications; a failure is retried with doubling waits, then marked failed. */
  async function deliver(): Promise<number> {
    const iso = new Date(deps.now()).toISOString()
    const due = await db
      .selectFrom('alert_deliveries')
      .innerJoin('alert_channels', 'alert_channels.id', 'alert_deliveries.channel_id')
      .select([
        'alert_deliveries.id as id',
        'alert_deliveries.payload as payload',
        'alert_deliveries.attempts as attempts',
        'alert_deliveries.title as title',
        'alert_channels.id as channelId',
        'alert_channels.kind as kind',
        'alert_channels.target as target',
        'alert_channels.secret as secret',
      ])
      .where('alert_deliveries.status', '=', 'pending')
      .where('alert_deliveries.next_attempt_at', '<=', iso)
      .orderBy('alert_deliveries.created_at', 'asc')
      .limit(100)
      .execute()
    let sent = 0
    for (const d of due) {
      let ok = false
      let status: number | null = null
      let error: string | null = null
      if (d.kind === 'email') {
        try {
          await deps.mailer.send({
            to: d.target,
            subject: `Palisade: ${d.title.slice(0, 200)}`,
            text: d.payload,
          })
          ok = true
        } catch (err) {
          error = err instanceof Error ? err.message.slice(0, 200) : 'mail failed'
        }
      } else if (d.secret) {
        const secret = deps.secrets.open(d.secret, `alert_channel:${d.channelId}`)
        const ts = Math.floor(deps.now() / 1000)
        const r = await postWebhook(
          d.target,
          {
            [ID_HEADER]: d.id,
            [TIMESTAMP_HEADER]: String(ts),
            [SIGNATURE_HEADER]: signWebhook(secret, d.id, ts, d.payload),
            'user-agent': 'Palisade-Webhook/1',
          },
          d.payload,
          { allowPrivate: deps.allowPrivateWebhooks === true },
        )
        status = r.status
        error =
          r.error ?? (r.status !== null && (r.status < 200 || r.status > 299) ? `answered ${r.status}` : null)
        ok = r.status !== null && r.status >= 200 && r.status <= 299
      }
      const attempts = d.attempts + 1
      const done = new Date(deps.now()).toISOString()
      await db
        .updateTable('alert_deliveries')
        .set(
          ok
            ? {
                status: 'delivered',
                attempts,
                response_status: status,
                error: null,
                delivered_at: done,
                next_attempt_at: null,
              }
            : attempts >= DELIVERY_ATTEMPTS
              ? { status: 'failed', attempts, response_status: status, error, next_attempt_at: null }
              : {
                  attempts,
                  response_status: status,
                  error,
                  next_attempt_at: new Date(deps.now() + RETRY_BASE_MS * 2 ** (attempts - 1)).toISOString(),
                },
        )
        .where('id', '=', d.id)
        .execute()
      if (ok) sent++
      else deps.logger?.warn({ delivery: d.id, attempts, error }, 'alert notification not delivered')
    }
    return sent
  }

  return { evaluate, deliver, conditions }
}

export type AlertEngine = ReturnType<typeof createAlertEngine>
