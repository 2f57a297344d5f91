import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { ProjectInput } from '../../tenancy/index.js'
import type { AppDeps } from '../build-app.js'
import { contextOf, principalOf } from '../context.js'
import { ForceQuery, Id, Name, PageOf, PageQuery, ProjectSchema, Runtime, Strict } from '../schemas.js'

const fields = {
  description: Type.Optional(Type.String({ maxLength: 500 })),
  repository: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 2048 }), Type.Null()])),
  defaultRuntime: Type.Optional(Runtime),
}

export function registerProjectRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { projects } = deps.tenancy
  app.get(
    '/v1/workspaces/:ws/projects',
    {
      config: { meta: { auth: 'required' } },
      schema: {
        params: Strict({ ws: Id }),
        querystring: PageQuery,
        response: { 200: PageOf(ProjectSchema) },
      },
    },
    async (request) =>
      projects.list(
        principalOf(request),
        (request.params as { ws: string }).ws,
        request.query as { cursor?: string; limit?: number },
      ),
  )
  app.post(
    '/v1/workspaces/:ws/projects',
    {
      config: { meta: { auth: 'required', audit: 'project.create' } },
      schema: {
        params: Strict({ ws: Id }),
        body: Strict({ name: Name, ...fields }),
        response: { 201: ProjectSchema },
      },
    },
    async (request, reply) =>
      reply
        .code(201)
        .send(
          await projects.create(
            principalOf(request),
            contextOf(request),
            (request.params as { ws: string }).ws,
            request.body as ProjectInput,
          ),
        ),
  )
  app.get(
    '/v1/projects/:id',
    {
      config: { meta: { auth: 'required' } },
      schema: { params: Strict({ id: Id }), response: { 200: ProjectSchema } },
    },
    async (request) => projects.get(principalOf(request), (request.params as { id: string }).id),
  )
  app.patch(
    '/v1/projects/:id',
    {
      config: { meta: { auth: 'required', audit: 'project.update' } },
      schema: {
        params: Strict({ id: Id }),
        body: Strict({ name: Type.Optional(Name), ...fields }),
        response: { 200: ProjectSchema },
      },
    },
    async (request) =>
      projects.update(
        principalOf(request),
        contextOf(request),
        (request.params as { id: string }).id,
        request.body as Partial<ProjectInput>,
      ),
  )
  app.delete(
    '/v1/projects/:id',
    {
      config: { meta: { auth: 'required', audit: 'project.delete' } },
      schema: { params: Strict({ id: Id }), querystring: ForceQuery },
    },
    async (request, reply) => {
      await projects.remove(
        principalOf(request),
        contextOf(request),
        (request.params as { id: string }).id,
        (request.query as { force?: boolean }).force === true,
      )
      deps.onEnvironmentsRemoved?.()
      return reply.code(204).send()
    },
  )
}
