import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { AppDeps } from '../build-app.js'
import { contextOf, principalOf } from '../context.js'
import { Strict, UserSchema } from '../schemas.js'
import { clearedSessionCookie, sessionCookie } from '../console.js'

export function registerSessionRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.post(
    '/v1/sessions',
    {
      config: {
        meta: {
          auth: 'public',
          audit: 'session.create',
          summary:
            'Sign in with e-mail and password; with `cookie: true` (the web console) the session is set as an HttpOnly cookie and not returned',
        },
      },
      schema: {
        body: Strict({
          email: Type.String({ minLength: 1, maxLength: 254 }),
          password: Type.String({ minLength: 1, maxLength: 1024 }),
          totp: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
          cookie: Type.Optional(Type.Boolean()),
        }),
        response: {
          201: Type.Object({
            token: Type.Optional(Type.String()),
            expiresAt: Type.String(),
            idleTimeoutMinutes: Type.Optional(Type.Integer()),
          }),
        },
      },
    },
    async (request, reply) => {
      const { cookie, ...body } = request.body as {
        email: string
        password: string
        totp?: string
        cookie?: boolean
      }
      const session = await deps.identity.login(contextOf(request), body)
      const idle = deps.sessionPolicy ? { idleTimeoutMinutes: deps.sessionPolicy.idleMinutes } : {}
      if (cookie === true) {
        // The browser keeps the session where no script can read it: the token is not in the body.
        const maxAge = (Date.parse(session.expiresAt) - Date.now()) / 1000
        void reply.header('set-cookie', sessionCookie(request, deps.publicUrl, session.token, maxAge))
        return reply.code(201).send({ expiresAt: session.expiresAt, ...idle })
      }
      return reply.code(201).send({ token: session.token, expiresAt: session.expiresAt, ...idle })
    },
  )

  app.delete(
    '/v1/sessions/current',
    {
      config: {
        meta: {
          auth: 'required',
          audit: 'session.delete',
          summary: "Sign out (revoke this session; clears the console's cookie)",
        },
      },
    },
    async (request, reply) => {
      void reply.header('set-cookie', clearedSessionCookie(request, deps.publicUrl))
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
