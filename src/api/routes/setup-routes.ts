import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { AppDeps } from '../build-app.js'
import { contextOf } from '../context.js'
import { Name, Strict, UserSchema, WorkspaceSchema } from '../schemas.js'

export function registerSetupRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.post(
    '/v1/setup',
    {
      config: {
        meta: {
          auth: 'public',
          audit: 'workspace.setup',
          summary: 'Create the first owner and workspace with the one-time setup token',
        },
      },
      schema: {
        body: Strict({
          token: Type.String({ minLength: 1, maxLength: 200 }),
          email: Type.String({ minLength: 3, maxLength: 254 }),
          password: Type.String({ minLength: 1, maxLength: 256 }),
          workspace: Name,
        }),
        response: { 201: Type.Object({ user: UserSchema, workspace: WorkspaceSchema }) },
      },
    },
    async (request, reply) => {
      const body = request.body as { token: string; email: string; password: string; workspace: string }
      const result = await deps.tenancy.setup.complete(contextOf(request), body)
      deps.onSetupComplete?.()
      return reply.code(201).send(result)
    },
  )
}
