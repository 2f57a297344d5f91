import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import {
  BACKUP_ORIGINS,
  BACKUP_STATUSES,
  SERVICE_STATUSES,
  SERVICE_TYPES,
  type BackupInput,
  type ServiceInput,
  SERVICE_LOG_LINES_MAX,
  type Services,
} from '../../services/index.js'
import { contextOf, principalOf } from '../context.js'
import { followStreams } from '../follow-streams.js'
import { Id, Name, PageOf, Strict, Timestamp } from '../schemas.js'

const ServiceType = Type.Union(SERVICE_TYPES.map((t) => Type.Literal(t)))

export const ServiceSchema = Type.Object({
  id: Type.String(),
  environmentId: Type.String(),
  type: ServiceType,
  name: Type.String(),
  version: Type.String(),
  status: Type.Union(SERVICE_STATUSES.map((s) => Type.Literal(s))),
  reason: Type.Union([Type.String(), Type.Null()]),
  createdAt: Timestamp,
  updatedAt: Timestamp,
})

const ServiceDetailSchema = Type.Composite([
  ServiceSchema,
  Type.Object({
    process: Type.Union([
      Type.Object({
        state: Type.Union([Type.Literal('running'), Type.Literal('backoff'), Type.Literal('stopped')]),
        pid: Type.Union([Type.Integer(), Type.Null()]),
        restarts: Type.Integer(),
      }),
      Type.Null(),
    ]),
    usage: Type.Object({
      dataBytes: Type.Integer(),
      memoryRssBytes: Type.Union([Type.Integer(), Type.Null()]),
    }),
  }),
])

const CredentialsSchema = Type.Object({
  serviceId: Type.String(),
  user: Type.String(),
  password: Type.String(),
  database: Type.Union([Type.String(), Type.Null()]),
  socketPath: Type.String(),
  url: Type.String(),
  variables: Type.Record(Type.String(), Type.String()),
})

export const BackupSchema = Type.Object({
  id: Type.String(),
  environmentId: Type.String(),
  status: Type.Union(BACKUP_STATUSES.map((s) => Type.Literal(s))),
  reason: Type.Union([Type.String(), Type.Null()]),
  contents: Type.Object({
    services: Type.Array(
      Type.Object({
        id: Type.String(),
        name: Type.String(),
        type: ServiceType,
        version: Type.String(),
        file: Type.String(),
      }),
    ),
    files: Type.Array(Type.String()),
  }),
  sizeBytes: Type.Union([Type.Integer(), Type.Null()]),
  sha256: Type.Union([Type.String(), Type.Null()]),
  createdAt: Timestamp,
  finishedAt: Type.Union([Timestamp, Type.Null()]),
  origin: Type.Union(BACKUP_ORIGINS.map((o) => Type.Literal(o))),
  sourceEnvironmentId: Type.Union([Type.String(), Type.Null()]),
})

export function registerServiceRoutes(app: FastifyInstance, services: Services): void {
  const Params = Strict({ id: Id })
  app.get(
    '/v1/environments/:id/services',
    {
      config: {
        meta: { auth: 'required', summary: 'Services (MariaDB, Redis, PostgreSQL) of an environment' },
      },
      schema: { params: Params, response: { 200: PageOf(ServiceSchema) } },
    },
    async (request) => services.list(principalOf(request), (request.params as { id: string }).id),
  )
  app.post(
    '/v1/environments/:id/services',
    {
      config: {
        meta: {
          auth: 'required',
          audit: 'environment.service.create',
          summary:
            'Provision a private MariaDB, Redis or PostgreSQL; answers at once with status provisioning',
        },
      },
      schema: {
        params: Params,
        body: Strict({
          type: ServiceType,
          name: Type.Optional(Name),
          version: Type.Optional(Type.String({ pattern: '^[0-9]+(\\.[0-9]+){0,2}$', maxLength: 20 })),
        }),
        response: { 201: ServiceSchema },
      },
    },
    async (request, reply) =>
      reply
        .code(201)
        .send(
          await services.create(
            principalOf(request),
            contextOf(request),
            (request.params as { id: string }).id,
            request.body as ServiceInput,
          ),
        ),
  )
  app.get(
    '/v1/services/:id',
    {
      config: { meta: { auth: 'required', summary: 'Status, process, data size and memory of a service' } },
      schema: { params: Params, response: { 200: ServiceDetailSchema } },
    },
    async (request) => services.get(principalOf(request), (request.params as { id: string }).id),
  )
  const follow = followStreams(app)
  app.get(
    '/v1/services/:id/logs',
    {
      config: {
        meta: {
          auth: 'required',
          summary:
            "The last lines of the service's server output (also what a server adopted after a control-plane crash wrote); follow=true streams new lines as text",
        },
      },
      schema: {
        params: Params,
        querystring: Strict({
          lines: Type.Optional(
            Type.Integer({
              minimum: 0,
              maximum: SERVICE_LOG_LINES_MAX,
              description: 'how many of the last lines (default 100; 0 only with follow)',
            }),
          ),
          follow: Type.Optional(
            Type.Boolean({
              description:
                'keep the response open (text/plain, one line each) and send new lines as they come',
            }),
          ),
        }),
        response: { 200: Type.Object({ lines: Type.Array(Type.String()) }) },
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: string }
      const q = request.query as { lines?: number; follow?: boolean }
      if (!q.follow) return services.logs(principalOf(request), id, q.lines ?? 100)
      const out = await follow(request, (stream) =>
        services.followLogs(principalOf(request), id, q.lines ?? 100, (line) => stream.write(line + '\n')),
      )
      return reply.type('text/plain; charset=utf-8').send(out)
    },
  )
  app.delete(
    '/v1/services/:id',
    {
      config: {
        meta: {
          auth: 'required',
          audit: 'environment.service.delete',
          summary: 'Stop a service; deleteData=true also removes it and its data for good',
        },
      },
      schema: {
        params: Params,
        querystring: Strict({
          deleteData: Type.Optional(
            Type.Boolean({ description: 'remove the data directory (irreversible)' }),
          ),
        }),
      },
    },
    async (request, reply) => {
      const q = request.query as { deleteData?: boolean }
      await services.remove(principalOf(request), contextOf(request), (request.params as { id: string }).id, {
        deleteData: q.deleteData === true,
      })
      return reply.code(204).send()
    },
  )
  app.get(
    '/v1/services/:id/credentials',
    {
      config: {
        meta: {
          auth: 'required',
          audit: 'environment.service.credentials.read',
          summary: 'The app user’s credentials (owners and admins); a read that is audited on purpose',
        },
      },
      schema: { params: Params, response: { 200: CredentialsSchema } },
    },
    async (request) =>
      services.credentials(principalOf(request), contextOf(request), (request.params as { id: string }).id),
  )

  const { backups } = services
  app.get(
    '/v1/environments/:id/backups',
    {
      config: { meta: { auth: 'required', summary: 'Backups of an environment, newest first' } },
      schema: { params: Params, response: { 200: PageOf(BackupSchema) } },
    },
    async (request) => backups.list(principalOf(request), (request.params as { id: string }).id),
  )
  app.post(
    '/v1/environments/:id/backups',
    {
      config: {
        meta: {
          auth: 'required',
          audit: 'environment.backup.create',
          summary:
            'Encrypted archive of the services’ dumps and the persistent directories; answers at once with status running',
        },
      },
      schema: {
        params: Params,
        body: Type.Optional(
          Strict({
            services: Type.Optional(Type.Array(Name, { maxItems: 10, uniqueItems: true })),
            files: Type.Optional(Type.Boolean()),
          }),
        ),
        response: { 201: BackupSchema },
      },
    },
    async (request, reply) =>
      reply
        .code(201)
        .send(
          await backups.create(
            principalOf(request),
            contextOf(request),
            (request.params as { id: string }).id,
            (request.body ?? {}) as BackupInput,
          ),
        ),
  )
  app.get(
    '/v1/backups/:id',
    { config: { meta: { auth: 'required' } }, schema: { params: Params, response: { 200: BackupSchema } } },
    async (request) => backups.get(principalOf(request), (request.params as { id: string }).id),
  )
  app.get(
    '/v1/backups/:id/download',
    {
      config: { meta: { auth: 'required', summary: 'The encrypted archive (application/octet-stream)' } },
      schema: { params: Params },
    },
    async (request, reply) => {
      const file = await backups.download(principalOf(request), (request.params as { id: string }).id)
      void reply
        .type('application/octet-stream')
        .header('Content-Length', file.size)
        .header('Content-Disposition', `attachment; filename="${file.fileName}"`)
      return reply.send(file.stream)
    },
  )
  app.post(
    '/v1/backups/:id/restore',
    {
      config: {
        meta: {
          auth: 'required',
          audit: 'environment.backup.restore',
          summary:
            'Verify the whole archive, then replace the services’ data and persistent directories with it',
        },
      },
      schema: { params: Params, response: { 200: BackupSchema } },
    },
    async (request) =>
      backups.restore(principalOf(request), contextOf(request), (request.params as { id: string }).id),
  )
  app.delete(
    '/v1/backups/:id',
    {
      config: { meta: { auth: 'required', audit: 'environment.backup.delete' } },
      schema: { params: Params },
    },
    async (request, reply) => {
      await backups.remove(principalOf(request), contextOf(request), (request.params as { id: string }).id)
      return reply.code(204).send()
    },
  )
}
