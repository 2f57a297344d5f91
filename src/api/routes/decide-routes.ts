import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible'
import { decideTraffic, maskUrl } from '../../edge/index.js'
import { ForbiddenError, InvalidError, ThrottledError, UnauthenticatedError } from '../../shared/errors.js'
import type { Tenancy } from '../../tenancy/index.js'
import type { Waf } from '../../waf/index.js'
import { principalOf } from '../context.js'
import { Id, Strict } from '../schemas.js'

export interface DecideDeps {
  /** The compiled WAF for an environment's tuning (the edge's cache: the same rules the edge runs). */
  readonly wafForTuning: (tuning: unknown, environmentId?: string) => Waf
  /** Decisions per signing key per minute. */
  readonly ratePerMinute: number
}

/** Limits of a described request (DESIGN.md §9): the whole JSON stays within the API's 1 MiB. */
export const DECIDE_LIMITS = Object.freeze({
  uri: 8192,
  headers: 100,
  headerName: 256,
  headerValue: 8192,
  body: 768 * 1024,
})

const DecideBody = Strict({
  method: Type.String({
    pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}$",
    description: 'HTTP method (a token)',
  }),
  uri: Type.String({
    minLength: 1,
    maxLength: DECIDE_LIMITS.uri,
    description: 'request target: path and query, or an absolute URL',
  }),
  headers: Type.Optional(
    Type.Record(Type.String(), Type.String({ maxLength: DECIDE_LIMITS.headerValue }), {
      maxProperties: DECIDE_LIMITS.headers,
      propertyNames: { pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$" },
      description: 'request headers by name (an HTTP token each)',
    }),
  ),
  body: Type.Optional(Type.String({ maxLength: DECIDE_LIMITS.body })),
  bodyEncoding: Type.Optional(Type.Union([Type.Literal('utf8'), Type.Literal('base64')])),
  clientIp: Type.Optional(Type.Union([Type.String({ format: 'ipv4' }), Type.String({ format: 'ipv6' })])),
  environment: Type.Optional(Id),
})

const DecisionSchema = Type.Object({
  decisionId: Type.String(),
  decision: Type.Union([Type.Literal('allow'), Type.Literal('deny')]),
  status: Type.Integer(),
  score: Type.Integer(),
  rules: Type.Array(Type.String()),
  matches: Type.Array(Type.Object({ id: Type.String(), msg: Type.String() })),
})

interface DecideInput {
  method: string
  uri: string
  headers?: Record<string, string>
  body?: string
  bodyEncoding?: 'utf8' | 'base64'
  clientIp?: string
  environment?: string
}

/**
 * `POST /v1/decide`: the edge's WAF verdict for a request that an external proxy describes. Signed
 * requests only (RFC 9421), throttled per signing key. With `environment`, that environment's tuning
 * applies (the caller needs `waf.decide` there) and a deny is stored as its WAF event; without it, the
 * default CRS set-up decides. A decision changes nothing, so it writes no audit event.
 */
export function registerDecideRoutes(app: FastifyInstance, deps: DecideDeps & { tenancy: Tenancy }): void {
  // Per process: a cluster of API servers gives each key that many decisions per server.
  const limiter = new RateLimiterMemory({ keyPrefix: 'decide', points: deps.ratePerMinute, duration: 60 })

  app.post(
    '/v1/decide',
    {
      config: {
        meta: {
          auth: 'required',
          signed: true,
          readOnly: true,
          tag: 'waf',
          summary:
            'WAF verdict (allow/deny, rule ids, decision id) for a request described by an external proxy',
        },
      },
      schema: { body: DecideBody, response: { 200: DecisionSchema } },
    },
    async (request) => {
      const principal = principalOf(request)
      const input = request.body as DecideInput
      if (principal.type !== 'token')
        throw new ForbiddenError('PAL_DECIDE_TOKEN_ONLY', 'decisions are for signed API tokens', {
          publicCode: 'forbidden',
        })
      try {
        await limiter.consume(principal.tokenId)
      } catch (rejection) {
        if (!(rejection instanceof RateLimiterRes)) throw rejection
        throw new ThrottledError('PAL_DECIDE_THROTTLED', 'too many decisions for this key', {
          retryAfter: Math.ceil(rejection.msBeforeNext / 1000),
          publicCode: 'throttled',
        })
      }
      let tuning: unknown
      if (input.environment !== undefined) {
        const env = await deps.tenancy.environments.load(principal, input.environment, 'waf.decide')
        tuning = await deps.tenancy.waf.effective(env.id)
      } else if ((await deps.tenancy.workspaces.list(principal, { limit: 1 })).items.length === 0) {
        // A key that acts in no workspace any more (every one ended it in an incident) decides nothing.
        throw new UnauthenticatedError(
          'PAL_DECIDE_NO_WORKSPACE',
          'this key acts in no workspace (an incident ended it there)',
          {
            publicCode: 'credentials_revoked',
          },
        )
      }
      const decision = decideTraffic(deps.wafForTuning(tuning, input.environment), {
        decisionId: request.id,
        method: input.method.toUpperCase(),
        uri: input.uri,
        headers: Object.entries(input.headers ?? {}),
        body: bodyOf(input),
        clientIp: input.clientIp ?? request.ip,
      })
      if (input.environment !== undefined && decision.decision === 'deny') {
        const host = Object.entries(input.headers ?? {}).find(([n]) => n.toLowerCase() === 'host')?.[1] ?? ''
        await deps.tenancy.waf.recordEvent(input.environment, {
          requestId: decision.decisionId,
          clientIp: input.clientIp ?? request.ip,
          host: host.slice(0, 255),
          method: input.method.toUpperCase(),
          uri: maskUrl(input.uri),
          action: 'block',
          score: decision.score,
          rules: decision.matches.map((m) => ({ id: Number(m.id), msg: m.msg, data: m.data })),
        })
      }
      return { ...decision, matches: decision.matches.map((m) => ({ id: m.id, msg: m.msg })) }
    },
  )
}

function bodyOf(input: DecideInput): Buffer | null {
  if (input.body === undefined) return null
  if (input.bodyEncoding !== 'base64') return Buffer.from(input.body, 'utf8')
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(input.body) || input.body.length % 4 !== 0)
    throw new InvalidError('PAL_DECIDE_BODY_ENCODING', 'body is not valid base64', {
      details: [{ field: 'body', message: 'base64 (RFC 4648, padded)' }],
    })
  return Buffer.from(input.body, 'base64')
}
