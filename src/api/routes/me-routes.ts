import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { AppDeps } from '../build-app.js'
import { contextOf, principalOf } from '../context.js'
import { Id, PageOf, Strict, Timestamp } from '../schemas.js'

const SessionSchema = Type.Object({
  id: Type.String(),
  createdAt: Timestamp,
  lastSeenAt: Timestamp,
  expiresAt: Timestamp,
  ip: Type.Union([Type.String(), Type.Null()]),
  userAgent: Type.Union([Type.String(), Type.Null()]),
  mfa: Type.Boolean(),
  current: Type.Boolean(),
})

const Code = Type.String({ minLength: 1, maxLength: 64 })
const Password = Type.String({ minLength: 1, maxLength: 1024 })

/** The signed-in user's own account: password, sessions, TOTP. */
export function registerMeRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { identity } = deps
  app.post(
    '/v1/me/password',
    {
      config: {
        meta: {
          auth: 'required',
          audit: 'user.password.update',
          summary: 'Change the password (ends every other session)',
        },
      },
      schema: { body: Strict({ currentPassword: Password, newPassword: Password }) },
    },
    async (request, reply) => {
      await identity.changePassword(
        principalOf(request),
        contextOf(request),
        request.body as { currentPassword: string; newPassword: string },
      )
      return reply.code(204).send()
    },
  )
  app.get(
    '/v1/me/sessions',
    {
      config: { meta: { auth: 'required', summary: 'My active sessions' } },
      schema: { response: { 200: PageOf(SessionSchema) } },
    },
    async (request) => identity.listSessions(principalOf(request)),
  )
  app.delete(
    '/v1/me/sessions/:id',
    {
      config: { meta: { auth: 'required', audit: 'session.delete', summary: 'Revoke one of my sessions' } },
      schema: { params: Strict({ id: Id }) },
    },
    async (request, reply) => {
      await identity.revokeSession(
        principalOf(request),
        contextOf(request),
        (request.params as { id: string }).id,
      )
      return reply.code(204).send()
    },
  )
  app.post(
    '/v1/me/totp',
    {
      config: {
        meta: {
          auth: 'required',
          audit: 'user.totp.enrol',
          summary: 'Start TOTP enrolment (secret and otpauth URI, shown once)',
        },
      },
      schema: { response: { 201: Type.Object({ secret: Type.String(), uri: Type.String() }) } },
    },
    async (request, reply) =>
      reply.code(201).send(await identity.enrolTotp(principalOf(request), contextOf(request))),
  )
  app.post(
    '/v1/me/totp/confirm',
    {
      config: {
        meta: {
          auth: 'required',
          audit: 'user.totp.enable',
          summary: 'Confirm TOTP with a code; answers 10 single-use recovery codes',
        },
      },
      schema: {
        body: Strict({ code: Code }),
        response: { 200: Type.Object({ recoveryCodes: Type.Array(Type.String()) }) },
      },
    },
    async (request) =>
      identity.confirmTotp(principalOf(request), contextOf(request), (request.body as { code: string }).code),
  )
  app.post(
    '/v1/me/totp/recovery-codes',
    {
      config: {
        meta: {
          auth: 'required',
          audit: 'user.totp.recovery-codes.regenerate',
          summary:
            'New recovery codes, 2FA staying on (needs a current code from the app); the old codes stop working',
        },
      },
      schema: {
        body: Strict({ code: Code }),
        response: { 200: Type.Object({ recoveryCodes: Type.Array(Type.String()) }) },
      },
    },
    async (request) =>
      identity.regenerateRecoveryCodes(
        principalOf(request),
        contextOf(request),
        (request.body as { code: string }).code,
      ),
  )
  app.delete(
    '/v1/me/totp',
    {
      config: {
        meta: {
          auth: 'required',
          audit: 'user.totp.disable',
          summary: 'Turn TOTP off (needs a current code, a recovery code or the password)',
        },
      },
      schema: { body: Strict({ code: Type.Optional(Code), password: Type.Optional(Password) }) },
    },
    async (request, reply) => {
      await identity.disableTotp(
        principalOf(request),
        contextOf(request),
        request.body as { code?: string; password?: string },
      )
      return reply.code(204).send()
    },
  )
}
