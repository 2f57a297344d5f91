import { actorOf, type Principal } from '../iam/index.js'
import { diffChanges } from '../audit/index.js'
import type { WafEventsTable, WafSettingsTable } from '../store/index.js'
import type { RequestContext } from '../shared/context.js'
import { UnprocessableError } from '../shared/errors.js'
import { newId } from '../shared/ids.js'
import type { TenancyDeps } from './deps.js'
import type { Environments } from './environments.js'
import { invalid } from './validate.js'

/**
 * An environment's WAF tuning. There is deliberately no field that turns the WAF off or to
 * detection-only: the platform side of the shared-responsibility line is not the customer's to drop.
 */
export interface WafSettings {
  readonly paranoia: 1 | 2 | 3 | 4
  readonly inboundThreshold: number
  readonly outboundThreshold: number
  readonly exclusions: readonly WafExclusion[]
}

export interface WafExclusion {
  /** A rule id or an inclusive range. */
  readonly ruleId?: number | readonly [number, number]
  readonly tag?: string
  /** Exclude only this target (`ARGS:password`, `REQUEST_COOKIES:/^sess/`) from the rule(s) named above. */
  readonly target?: string
}

export const DEFAULT_WAF: WafSettings = Object.freeze({
  paranoia: 1,
  inboundThreshold: 5,
  outboundThreshold: 4,
  exclusions: [],
})
/** Rows per INSERT statement of a batch (11 columns: well under SQLite's 32,766 bound parameters). */
const WAF_EVENT_INSERT_CHUNK = 500

/** Exact counts of an environment's WAF events (`GET /v1/environments/:id/waf-events/summary`). */
export interface WafEventCounts {
  readonly since: string
  readonly total: number
  readonly blocked: number
  /** Events each rule matched in (a rule counts once per event). */
  readonly byRule: readonly { readonly ruleId: number; readonly count: number }[]
  readonly bySource: readonly { readonly clientIp: string; readonly count: number }[]
}

export const WAF_LIMITS = Object.freeze({ exclusions: 100, threshold: [1, 100] as const })

/** Keys that would switch the WAF off if they meant anything; refused with a clear reason. */
export const WAF_OFF_SWITCHES = [
  'enabled',
  'mode',
  'engine',
  'ruleEngine',
  'detectionOnly',
  'disabled',
  'off',
]

const TARGET_VARIABLES = [
  'ARGS',
  'ARGS_GET',
  'ARGS_POST',
  'ARGS_NAMES',
  'REQUEST_COOKIES',
  'REQUEST_COOKIES_NAMES',
  'REQUEST_HEADERS',
  'REQUEST_BODY',
  'REQUEST_URI',
  'REQUEST_FILENAME',
  'QUERY_STRING',
  'FILES',
  'FILES_NAMES',
  'XML',
  'TX',
]
const TARGET = new RegExp(
  `^(${TARGET_VARIABLES.join('|')})(:([A-Za-z0-9_.\\-\\[\\]]{1,128}|/[^/\\s"'\`\\\\]{1,128}/))?$`,
)
const TAG = /^[A-Za-z0-9_./-]{1,100}$/

export function validateWafSettings(input: Partial<WafSettings> & Record<string, unknown>): void {
  const off = Object.keys(input).find((k) => WAF_OFF_SWITCHES.includes(k))
  if (off !== undefined) {
    throw new UnprocessableError(
      'PAL_WAF_ALWAYS_ON',
      `the WAF cannot be turned off or set to detection-only (${off}); tune paranoia, thresholds and exclusions instead`,
      {
        publicCode: 'waf_always_on',
        details: [{ field: off, message: 'the WAF is always on' }],
      },
    )
  }
  if (input.paranoia !== undefined && ![1, 2, 3, 4].includes(input.paranoia))
    invalid('paranoia', 'must be 1, 2, 3 or 4')
  for (const f of ['inboundThreshold', 'outboundThreshold'] as const) {
    const v = input[f]
    if (
      v !== undefined &&
      (!Number.isInteger(v) || v < WAF_LIMITS.threshold[0] || v > WAF_LIMITS.threshold[1])
    )
      invalid(f, `must be an integer from ${WAF_LIMITS.threshold[0]} to ${WAF_LIMITS.threshold[1]}`)
  }
  const ex = input.exclusions
  if (ex !== undefined) {
    if (ex.length > WAF_LIMITS.exclusions) invalid('exclusions', `at most ${WAF_LIMITS.exclusions}`)
    ex.forEach((e, i) => {
      const field = `exclusions.${i}`
      if (e.ruleId === undefined && e.tag === undefined) invalid(field, 'needs a ruleId or a tag')
      const ids = e.ruleId === undefined ? [] : typeof e.ruleId === 'number' ? [e.ruleId] : [...e.ruleId]
      if (ids.some((id) => !Number.isInteger(id) || id < 1 || id > 99_999_999))
        invalid(`${field}.ruleId`, 'must be a rule id (1–99999999) or a [from, to] range')
      if (ids.length === 2 && (ids[0] as number) > (ids[1] as number))
        invalid(`${field}.ruleId`, 'range must be [from, to] with from ≤ to')
      if (e.tag !== undefined && !TAG.test(e.tag))
        invalid(`${field}.tag`, 'must be a CRS tag such as attack-sqli')
      if (e.target !== undefined && !TARGET.test(e.target))
        invalid(
          `${field}.target`,
          `must be a variable (${TARGET_VARIABLES.join(', ')}) with an optional :name or :/regex/`,
        )
    })
  }
}

function toSettings(r: WafSettingsTable | undefined): WafSettings {
  if (!r) return DEFAULT_WAF
  return {
    paranoia: r.paranoia as WafSettings['paranoia'],
    inboundThreshold: r.inbound_threshold,
    outboundThreshold: r.outbound_threshold,
    exclusions: JSON.parse(r.exclusions) as WafExclusion[],
  }
}

export interface WafEvent {
  readonly id: string
  readonly at: string
  readonly requestId: string
  readonly clientIp: string
  readonly host: string
  readonly method: string
  readonly uri: string
  readonly action: string
  readonly score: number
  readonly rules: ReadonlyArray<{ id: number; msg?: string; data?: string }>
}

export const WAF_EVENT_LIMITS = Object.freeze({ uri: 512, data: 200, rules: 50 })

export function createWafSettings(deps: TenancyDeps, environments: Environments) {
  const { db, audit, clock } = deps
  return {
    async get(principal: Principal, envId: string): Promise<WafSettings> {
      await environments.load(principal, envId, 'waf.read')
      return this.effective(envId)
    },

    /** Settings the edge applies (no authorization: the edge is the platform). */
    async effective(envId: string): Promise<WafSettings> {
      return toSettings(
        await db
          .selectFrom('waf_settings')
          .selectAll()
          .where('environment_id', '=', envId)
          .executeTakeFirst(),
      )
    },

    async update(
      principal: Principal,
      ctx: RequestContext,
      envId: string,
      input: Partial<WafSettings> & Record<string, unknown>,
    ): Promise<WafSettings> {
      const env = await environments.load(principal, envId, 'waf.manage')
      validateWafSettings(input)
      return db.transaction().execute(async (trx) => {
        const before = toSettings(
          await trx
            .selectFrom('waf_settings')
            .selectAll()
            .where('environment_id', '=', envId)
            .executeTakeFirst(),
        )
        const next: WafSettings = {
          paranoia: input.paranoia ?? before.paranoia,
          inboundThreshold: input.inboundThreshold ?? before.inboundThreshold,
          outboundThreshold: input.outboundThreshold ?? before.outboundThreshold,
          exclusions: input.exclusions ?? before.exclusions,
        }
        const row: WafSettingsTable = {
          environment_id: envId,
          paranoia: next.paranoia,
          inbound_threshold: next.inboundThreshold,
          outbound_threshold: next.outboundThreshold,
          exclusions: JSON.stringify(next.exclusions),
          updated_at: clock.now().toISOString(),
        }
        await trx
          .insertInto('waf_settings')
          .values(row)
          .onConflict((oc) => oc.column('environment_id').doUpdateSet(row))
          .execute()
        await audit.record(trx, {
          actor: actorOf(principal),
          action: 'environment.waf.update',
          target: { type: 'environment', id: envId },
          workspaceId: env.workspace_id,
          projectId: env.project_id,
          environmentId: envId,
          changes: diffChanges({ ...before }, { ...next }),
          context: ctx,
        })
        return next
      })
    },

    /** Stores a blocked (or scored) request seen by the edge. Data is truncated; the edge masks secrets before. */
    async recordEvent(envId: string, e: Omit<WafEvent, 'id' | 'at'>): Promise<void> {
      await this.recordEvents(envId, [e])
    },

    /**
     * Stores many of one environment's events in one transaction (the edge workers' batches: one store write
     * per environment per flush, however large a flood). `at` is when the edge saw the request, if given.
     */
    async recordEvents(
      envId: string,
      events: readonly (Omit<WafEvent, 'id' | 'at'> & { readonly at?: string })[],
    ): Promise<void> {
      if (events.length === 0) return
      const env = await db
        .selectFrom('environments')
        .select('workspace_id')
        .where('id', '=', envId)
        .executeTakeFirst()
      if (!env) return
      const fallbackAt = clock.now().toISOString()
      const rows: WafEventsTable[] = events.map((e) => ({
        id: newId('waf'),
        environment_id: envId,
        workspace_id: env.workspace_id,
        at: e.at !== undefined && !Number.isNaN(Date.parse(e.at)) ? new Date(e.at).toISOString() : fallbackAt,
        request_id: e.requestId.slice(0, 100),
        client_ip: e.clientIp.slice(0, 64),
        host: e.host.slice(0, 255),
        method: e.method.slice(0, 16),
        uri: e.uri.slice(0, WAF_EVENT_LIMITS.uri),
        action: e.action,
        score: e.score,
        rules: JSON.stringify(
          e.rules.slice(0, WAF_EVENT_LIMITS.rules).map((r) => ({
            id: r.id,
            ...(r.msg ? { msg: r.msg.slice(0, 200) } : {}),
            ...(r.data ? { data: r.data.slice(0, WAF_EVENT_LIMITS.data) } : {}),
          })),
        ),
      }))
      // Chunks keep each statement under SQLite's bound-parameter limit; one transaction is one write.
      await db.transaction().execute(async (trx) => {
        for (let i = 0; i < rows.length; i += WAF_EVENT_INSERT_CHUNK)
          await trx
            .insertInto('waf_events')
            .values(rows.slice(i, i + WAF_EVENT_INSERT_CHUNK))
            .execute()
      })
    },

    /**
     * Exact counts of an environment's stored WAF events since `since` (default: the last 24 hours): in all,
     * blocked, per rule and per client address (the top `top` of each).
     */
    async eventCounts(
      principal: Principal,
      envId: string,
      query: { since?: string; top?: number },
    ): Promise<WafEventCounts> {
      await environments.load(principal, envId, 'waf.read')
      const since = query.since ?? new Date(clock.now().getTime() - 86_400_000).toISOString()
      const top = Math.min(Math.max(query.top ?? 20, 1), 200)
      const base = db.selectFrom('waf_events').where('environment_id', '=', envId).where('at', '>=', since)
      const [totals, sources, ruleRows] = await Promise.all([
        base
          .select((eb) => [eb.fn.countAll<number | string>().as('total'), 'action'])
          .groupBy('action')
          .execute(),
        base
          .select((eb) => ['client_ip', eb.fn.countAll<number | string>().as('count')])
          .groupBy('client_ip')
          .orderBy('count', 'desc')
          .limit(top)
          .execute(),
        base.select('rules').execute(),
      ])
      const byRule = new Map<number, number>()
      for (const r of ruleRows) {
        const ids = new Set((JSON.parse(r.rules) as { id: number }[]).map((x) => x.id))
        for (const id of ids) byRule.set(id, (byRule.get(id) ?? 0) + 1)
      }
      let total = 0
      let blocked = 0
      for (const t of totals) {
        total += Number(t.total)
        if (t.action === 'block') blocked += Number(t.total)
      }
      return {
        since,
        total,
        blocked,
        byRule: [...byRule.entries()]
          .sort((a, b) => b[1] - a[1] || a[0] - b[0])
          .slice(0, top)
          .map(([ruleId, count]) => ({ ruleId, count })),
        bySource: sources.map((s) => ({ clientIp: s.client_ip, count: Number(s.count) })),
      }
    },

    async events(
      principal: Principal,
      envId: string,
      page: { limit?: number; before?: string },
    ): Promise<{ items: WafEvent[]; nextCursor: string | null }> {
      await environments.load(principal, envId, 'waf.read')
      const limit = Math.min(Math.max(page.limit ?? 50, 1), 200)
      let q = db.selectFrom('waf_events').selectAll().where('environment_id', '=', envId)
      if (page.before) q = q.where('at', '<', page.before)
      const rows = await q
        .orderBy('at', 'desc')
        .limit(limit + 1)
        .execute()
      const items = rows.slice(0, limit).map((r) => ({
        id: r.id,
        at: r.at,
        requestId: r.request_id,
        clientIp: r.client_ip,
        host: r.host,
        method: r.method,
        uri: r.uri,
        action: r.action,
        score: r.score,
        rules: JSON.parse(r.rules) as WafEvent['rules'],
      }))
      return { items, nextCursor: rows.length > limit ? (items[items.length - 1]?.at ?? null) : null }
    },
  }
}

export type WafSettingsService = ReturnType<typeof createWafSettings>
