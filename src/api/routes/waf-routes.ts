import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { validateWafSettings, WAF_LIMITS, type WafSettings } from '../../tenancy/index.js'
import type { AppDeps } from '../build-app.js'
import { contextOf, principalOf } from '../context.js'
import { Id, Strict } from '../schemas.js'

const Exclusion = Strict({
  ruleId: Type.Optional(
    Type.Union([
      Type.Integer({ minimum: 1, maximum: 99_999_999 }),
      Type.Tuple([Type.Integer({ minimum: 1 }), Type.Integer({ minimum: 1 })]),
    ]),
  ),
  tag: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  target: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
})

const Settings = Type.Object({
  paranoia: Type.Integer({ minimum: 1, maximum: 4 }),
  inboundThreshold: Type.Integer(),
  outboundThreshold: Type.Integer(),
  exclusions: Type.Array(Exclusion),
  mode: Type.Literal('blocking', { description: 'always blocking: the WAF cannot be turned off' }),
})

const WafEvent = Type.Object({
  id: Type.String(),
  at: Type.String(),
  requestId: Type.String(),
  clientIp: Type.String(),
  host: Type.String(),
  method: Type.String(),
  uri: Type.String(),
  action: Type.String(),
  score: Type.Integer(),
  rules: Type.Array(
    Type.Object({
      id: Type.Integer(),
      msg: Type.Optional(Type.String()),
      data: Type.Optional(Type.String()),
    }),
  ),
})

export function registerWafRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { waf } = deps.tenancy
  app.get(
    '/v1/environments/:id/waf',
    {
      config: { meta: { auth: 'required', summary: 'WAF tuning of an environment (always on)' } },
      schema: { params: Strict({ id: Id }), response: { 200: Settings } },
    },
    async (request) => ({
      ...(await waf.get(principalOf(request), (request.params as { id: string }).id)),
      mode: 'blocking',
    }),
  )
  app.put(
    '/v1/environments/:id/waf',
    {
      config: {
        meta: {
          auth: 'required',
          audit: 'environment.waf.update',
          summary: 'Tune paranoia, thresholds and exclusions; there is no off switch',
        },
      },
      // Off switches get their own 422 answer before schema validation would call them unknown fields.
      preValidation: async (request) => {
        if (request.body && typeof request.body === 'object')
          validateWafSettings(request.body as Record<string, unknown>)
      },
      schema: {
        params: Strict({ id: Id }),
        body: Strict({
          paranoia: Type.Optional(Type.Integer({ minimum: 1, maximum: 4 })),
          inboundThreshold: Type.Optional(
            Type.Integer({ minimum: WAF_LIMITS.threshold[0], maximum: WAF_LIMITS.threshold[1] }),
          ),
          outboundThreshold: Type.Optional(
            Type.Integer({ minimum: WAF_LIMITS.threshold[0], maximum: WAF_LIMITS.threshold[1] }),
          ),
          exclusions: Type.Optional(Type.Array(Exclusion, { maxItems: WAF_LIMITS.exclusions })),
        }),
        response: { 200: Settings },
      },
    },
    async (request) => {
      const settings = await waf.update(
        principalOf(request),
        contextOf(request),
        (request.params as { id: string }).id,
        request.body as Partial<WafSettings>,
      )
      deps.onEnvironmentChanged?.((request.params as { id: string }).id)
      return { ...settings, mode: 'blocking' }
    },
  )
  app.get(
    '/v1/environments/:id/waf-events',
    {
      config: { meta: { auth: 'required', summary: 'Requests the WAF blocked, newest first' } },
      schema: {
        params: Strict({ id: Id }),
        querystring: Strict({
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
          cursor: Type.Optional(Type.String({ format: 'date-time' })),
        }),
        response: {
          200: Type.Object({
            items: Type.Array(WafEvent),
            nextCursor: Type.Union([Type.String(), Type.Null()]),
          }),
        },
      },
    },
    async (request) => {
      const q = request.query as { limit?: number; cursor?: string }
      return waf.events(principalOf(request), (request.params as { id: string }).id, {
        ...(q.limit ? { limit: q.limit } : {}),
        ...(q.cursor ? { before: q.cursor } : {}),
      })
    },
  )
  app.get(
    '/v1/environments/:id/waf-events/summary',
    {
      config: {
        meta: {
          auth: 'required',
          summary: 'Exact counts of WAF events: in all, blocked, per rule, per client',
        },
      },
      schema: {
        params: Strict({ id: Id }),
        querystring: Strict({
          since: Type.Optional(Type.String({ format: 'date-time' })),
          top: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
        }),
        response: {
          200: Type.Object({
            since: Type.String(),
            total: Type.Integer(),
            blocked: Type.Integer(),
            byRule: Type.Array(Type.Object({ ruleId: Type.Integer(), count: Type.Integer() })),
            bySource: Type.Array(Type.Object({ clientIp: Type.String(), count: Type.Integer() })),
          }),
        },
      },
    },
    async (request) => {
      const q = request.query as { since?: string; top?: number }
      return waf.eventCounts(principalOf(request), (request.params as { id: string }).id, {
        ...(q.since ? { since: new Date(q.since).toISOString() } : {}),
        ...(q.top ? { top: q.top } : {}),
      })
    },
  )
}
