import type { FastifyInstance } from 'fastify'
import { Type } from '@sinclair/typebox'
import type { EnvironmentInput } from '../../tenancy/index.js'
import type { AppDeps } from '../build-app.js'
import { contextOf, principalOf } from '../context.js'
import {
  EnvironmentFields,
  EnvironmentSchema,
  ForceQuery,
  Id,
  Name,
  PageOf,
  PageQuery,
  Strict,
} from '../schemas.js'

export function registerEnvironmentRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { environments } = deps.tenancy
  app.get(
    '/v1/projects/:id/environments',
    {
      config: { meta: { auth: 'required' } },
      schema: {
        params: Strict({ id: Id }),
        querystring: PageQuery,
        response: { 200: PageOf(EnvironmentSchema) },
      },
    },
    async (request) =>
      environments.list(
        principalOf(request),
        (request.params as { id: string }).id,
        request.query as { cursor?: string; limit?: number },
      ),
  )
  app.post(
    '/v1/projects/:id/environments',
    {
      config: { meta: { auth: 'required', audit: 'environment.create' } },
      schema: {
        params: Strict({ id: Id }),
        body: Strict({ name: Name, ...EnvironmentFields }),
        response: { 201: EnvironmentSchema },
      },
    },
    async (request, reply) =>
      reply
        .code(201)
        .send(
          await environments.create(
            principalOf(request),
            contextOf(request),
            (request.params as { id: string }).id,
            request.body as EnvironmentInput,
          ),
        ),
  )
  app.get(
    '/v1/environments/:id',
    {
      config: { meta: { auth: 'required' } },
      schema: { params: Strict({ id: Id }), response: { 200: EnvironmentSchema } },
    },
    async (request) => environments.get(principalOf(request), (request.params as { id: string }).id),
  )
  app.patch(
    '/v1/environments/:id',
    {
      config: { meta: { auth: 'required', audit: 'environment.update' } },
      schema: {
        params: Strict({ id: Id }),
        body: Strict({ name: Type.Optional(Name), ...EnvironmentFields }),
        response: { 200: EnvironmentSchema },
      },
    },
    async (request) => {
      const id = (request.params as { id: string }).id
      const env = await environments.update(
        principalOf(request),
        contextOf(request),
        id,
        request.body as Partial<EnvironmentInput>,
      )
      // Host, egress and the rest reach the edge and the driver at once, not at the next deploy.
      deps.onEnvironmentChanged?.(id)
      return env
    },
  )
  app.delete(
    '/v1/environments/:id',
    {
      config: {
        meta: {
          auth: 'required',
          audit: 'environment.delete',
          summary: 'Delete an environment (force=true when it holds services, persistent data or backups)',
        },
      },
      schema: { params: Strict({ id: Id }), querystring: ForceQuery },
    },
    async (request, reply) => {
      await environments.remove(
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
