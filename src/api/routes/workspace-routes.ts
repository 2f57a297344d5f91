import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { AppDeps } from '../build-app.js'
import { contextOf, principalOf } from '../context.js'
import { ForceQuery, Name, PageOf, PageQuery, Strict, WorkspaceSchema } from '../schemas.js'

const WsParams = Strict({
  ws: Type.String({ minLength: 1, maxLength: 100, description: 'workspace id or name' }),
})

export function registerWorkspaceRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { workspaces } = deps.tenancy
  app.get(
    '/v1/workspaces',
    {
      config: { meta: { auth: 'required', summary: 'Workspaces I belong to' } },
      schema: { querystring: PageQuery, response: { 200: PageOf(WorkspaceSchema) } },
    },
    async (request) =>
      workspaces.list(principalOf(request), request.query as { cursor?: string; limit?: number }),
  )
  app.post(
    '/v1/workspaces',
    {
      config: {
        meta: {
          auth: 'required',
          audit: 'workspace.create',
          summary:
            'Create a workspace (you become its owner; a session or an admin-scoped token; at most 10 owned per user)',
        },
      },
      schema: {
        body: Strict({
          name: Name,
          displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
        }),
        response: { 201: WorkspaceSchema },
      },
    },
    async (request, reply) =>
      reply
        .code(201)
        .send(
          await workspaces.create(
            principalOf(request),
            contextOf(request),
            request.body as { name: string; displayName?: string },
          ),
        ),
  )
  app.get(
    '/v1/workspaces/:ws',
    {
      config: { meta: { auth: 'required' } },
      schema: { params: WsParams, response: { 200: WorkspaceSchema } },
    },
    async (request) => workspaces.get(principalOf(request), (request.params as { ws: string }).ws),
  )
  app.patch(
    '/v1/workspaces/:ws',
    {
      config: { meta: { auth: 'required', audit: 'workspace.update' } },
      schema: {
        params: WsParams,
        body: Strict(
          {
            name: Type.Optional(Name),
            displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
            requireMfa: Type.Optional(Type.Boolean()),
          },
          {},
        ),
        response: { 200: WorkspaceSchema },
      },
    },
    async (request) =>
      workspaces.update(
        principalOf(request),
        contextOf(request),
        (request.params as { ws: string }).ws,
        request.body as Record<string, never>,
      ),
  )
  app.delete(
    '/v1/workspaces/:ws',
    {
      config: { meta: { auth: 'required', audit: 'workspace.delete' } },
      schema: { params: WsParams, querystring: ForceQuery },
    },
    async (request, reply) => {
      await workspaces.remove(
        principalOf(request),
        contextOf(request),
        (request.params as { ws: string }).ws,
        (request.query as { force?: boolean }).force === true,
      )
      deps.onEnvironmentsRemoved?.()
      return reply.code(204).send()
    },
  )
}
