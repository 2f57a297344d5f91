import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { AppDeps } from '../build-app.js'
import { contextOf } from '../context.js'
import { Strict } from '../schemas.js'

/** Accepting an invitation needs no account yet: the mailed token is the credential. */
export function registerInvitationRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.post(
    '/v1/invitations/:token/accept',
    {
      config: {
        meta: {
          auth: 'public',
          audit: 'member.create',
          summary: 'Accept an invitation (creates the account when new), once',
        },
      },
      // No body at all means no options: validated as {}.
      preValidation: async (request) => {
        request.body ??= {}
      },
      schema: {
        params: Strict({ token: Type.String({ minLength: 1, maxLength: 200 }) }),
        body: Strict({ password: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })) }),
        response: {
          201: Type.Object({
            workspaceId: Type.String(),
            userId: Type.String(),
            email: Type.String(),
            role: Type.String(),
          }),
        },
      },
    },
    async (request, reply) => {
      const body = (request.body ?? {}) as { password?: string }
      return reply
        .code(201)
        .send(
          await deps.identity.members.accept(
            contextOf(request),
            (request.params as { token: string }).token,
            body.password,
          ),
        )
    },
  )
}

/**
 * The invitation token travels in the path (DESIGN.md §3), so request logs would record a live
 * credential: the URL that reaches a log line has it masked.
 */
export function maskSecretsInUrl(url: string): string {
  return url.replace(/\/invitations\/[^/?#]+/g, '/invitations/[masked]')
}

/** Fastify's request log view, with secrets in the URL masked. */
export function requestLogView(req: {
  method: string
  url: string
  host?: string
  ip?: string
}): Record<string, unknown> {
  return { method: req.method, url: maskSecretsInUrl(req.url), host: req.host, remoteAddress: req.ip }
}
