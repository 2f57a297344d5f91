import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { SCOPES, TOKEN_LIMITS } from '../../iam/index.js'
import type { AppDeps } from '../build-app.js'
import { contextOf, principalOf } from '../context.js'
import { Id, PageOf, Strict, Timestamp } from '../schemas.js'

const Scope = Type.Union(SCOPES.map((s) => Type.Literal(s)))
const tokenFields = {
  id: Type.String(),
  name: Type.String(),
  scopes: Type.Array(Type.String()),
  signed: Type.Boolean(),
  createdAt: Timestamp,
  expiresAt: Timestamp,
  lastUsedAt: Type.Union([Timestamp, Type.Null()]),
  lastUsedIp: Type.Union([Type.String(), Type.Null()]),
  replacedBy: Type.Union([Type.String(), Type.Null()]),
}
const TokenSchema = Type.Object(tokenFields)
const NewTokenSchema = Type.Object({
  ...tokenFields,
  token: Type.String({ description: 'shown once' }),
  signingKey: Type.Optional(
    Type.String({ description: 'hex HMAC-SHA256 key for RFC 9421 signatures, shown once' }),
  ),
})

/** API tokens (`pal_…`): shown once, stored as SHA-256, scoped, expiring, rotatable with overlap. */
export function registerTokenRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { tokens } = deps.identity
  app.get(
    '/v1/me/tokens',
    {
      config: { meta: { auth: 'required', summary: 'My API tokens (without their secrets)' } },
      schema: { response: { 200: PageOf(TokenSchema) } },
    },
    async (request) => tokens.list(principalOf(request)),
  )
  app.post(
    '/v1/me/tokens',
    {
      config: {
        meta: { auth: 'required', audit: 'token.create', summary: 'Create an API token (shown once)' },
      },
      schema: {
        body: Strict({
          name: Type.String({ minLength: 1, maxLength: 100 }),
          scopes: Type.Array(Scope, { minItems: 1, maxItems: 5 }),
          expiresInDays: Type.Optional(
            Type.Integer({
              minimum: TOKEN_LIMITS.minDays,
              maximum: TOKEN_LIMITS.maxDays,
              default: TOKEN_LIMITS.defaultDays,
            }),
          ),
          signed: Type.Optional(
            Type.Boolean({ description: 'requests must be signed (RFC 9421) with the returned signingKey' }),
          ),
        }),
        response: { 201: NewTokenSchema },
      },
    },
    async (request, reply) =>
      reply
        .code(201)
        .send(
          await tokens.create(
            principalOf(request),
            contextOf(request),
            request.body as { name: string; scopes: string[]; expiresInDays?: number; signed?: boolean },
          ),
        ),
  )
  app.post(
    '/v1/me/tokens/:id/rotate',
    {
      config: {
        meta: {
          auth: 'required',
          audit: 'token.rotate',
          summary: 'Issue a successor; the old token works for overlapHours more',
        },
      },
      // No body at all means the default overlap: validated as {}.
      preValidation: async (request) => {
        request.body ??= {}
      },
      schema: {
        params: Strict({ id: Id }),
        body: Strict({
          overlapHours: Type.Optional(Type.Integer({ minimum: 0, maximum: TOKEN_LIMITS.maxOverlapHours })),
        }),
        response: { 201: NewTokenSchema },
      },
    },
    async (request, reply) => {
      const body = (request.body ?? {}) as { overlapHours?: number }
      return reply
        .code(201)
        .send(
          await tokens.rotate(
            principalOf(request),
            contextOf(request),
            (request.params as { id: string }).id,
            body.overlapHours,
          ),
        )
    },
  )
  app.delete(
    '/v1/me/tokens/:id',
    {
      config: { meta: { auth: 'required', audit: 'token.delete', summary: 'Revoke an API token' } },
      schema: { params: Strict({ id: Id }) },
    },
    async (request, reply) => {
      await tokens.revoke(principalOf(request), contextOf(request), (request.params as { id: string }).id)
      return reply.code(204).send()
    },
  )
}
