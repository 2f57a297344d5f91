import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { AppDeps } from '../build-app.js'
import { contextOf, principalOf } from '../context.js'
import { Strict, UserSchema } from '../schemas.js'

export function registerSessionRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.post(
    '/v1/sessions',
    {
      config: {
        meta: { auth: 'public', audit: 'session.create', summary: 'Sign in with e-mail and password' },
      },
      schema: {
        body: Strict({
          email: Type.String({ minLength: 1, maxLength: 254 }),
          password: Type.String({ minLength: 1, maxLength: 1024 }),
          totp: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
        }),
        response: { 201: Type.Object({ token: Type.String(), expiresAt: Type.String() }) },
      },
    },
    async (request, reply) => {
      const body = request.body as { email: string; password: string; totp?: string }
      const session = await deps.identity.login(contextOf(request), body)
      return reply.code(201).send({ token: session.token, expiresAt: session.expiresAt })
    },
  )

  app.delete(
    '/v1/sessions/current',
    {
      config: {
        meta: { auth: 'required', audit: 'session.delete', summary: 'Sign out (revoke this session)' },
      },
    },
    async (request, reply) => {
      await deps.identity.logout(principalOf(request), contextOf(request))
      return reply.code(204).send()
    },
  )

  app.get(
    '/v1/me',
    {
      config: { meta: { auth: 'required', summary: 'The signed-in user' } },
      schema: { response: { 200: UserSchema } },
    },
    async (request) => deps.identity.me(principalOf(request)),
  )
}
