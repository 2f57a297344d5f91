import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { JOB_TYPES, type Deploy } from '../../deploy/index.js'
import { contextOf, principalOf } from '../context.js'
import { Id, PageOf, Strict, Timestamp } from '../schemas.js'
import { LogQuery, sendLog } from './deployment-routes.js'

const JobSchema = Type.Object({
  id: Type.String(),
  environmentId: Type.String(),
  type: Type.Union(JOB_TYPES.map((t) => Type.Literal(t))),
  /** null for other job types, and for callers who may not read job output (viewers; developers on production). */
  command: Type.Union([Type.String(), Type.Null()]),
  status: Type.Union(['queued', 'running', 'succeeded', 'failed'].map((s) => Type.Literal(s))),
  exitCode: Type.Union([Type.Integer(), Type.Null()]),
  reason: Type.Union([Type.String(), Type.Null()]),
  createdAt: Timestamp,
  finishedAt: Type.Union([Timestamp, Type.Null()]),
})

export function registerJobRoutes(app: FastifyInstance, deploy: Deploy): void {
  const Params = Strict({ id: Id })
  app.post(
    '/v1/environments/:id/jobs',
    {
      config: {
        meta: {
          auth: 'required',
          audit: 'environment.job.create',
          summary:
            'Run a job: restart, flush-cache, maintenance-on/off, or a one-off command in the current release',
        },
      },
      schema: {
        params: Params,
        body: Strict({
          type: Type.Union(JOB_TYPES.map((t) => Type.Literal(t))),
          command: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
        }),
        response: { 202: JobSchema },
      },
    },
    async (request, reply) => {
      const body = request.body as { type: string; command?: string }
      const input =
        body.command === undefined ? { type: body.type } : { type: body.type, command: body.command }
      return reply
        .code(202)
        .send(
          await deploy.createJob(
            principalOf(request),
            contextOf(request),
            (request.params as { id: string }).id,
            input,
          ),
        )
    },
  )
  app.get(
    '/v1/environments/:id/jobs',
    {
      config: { meta: { auth: 'required', summary: 'The last 100 jobs, newest first' } },
      schema: { params: Params, response: { 200: PageOf(JobSchema) } },
    },
    async (request) => deploy.listJobs(principalOf(request), (request.params as { id: string }).id),
  )
  app.get(
    '/v1/jobs/:id',
    { config: { meta: { auth: 'required' } }, schema: { params: Params, response: { 200: JobSchema } } },
    async (request) => deploy.getJob(principalOf(request), (request.params as { id: string }).id),
  )
  app.get(
    '/v1/jobs/:id/logs',
    {
      config: {
        meta: {
          auth: 'required',
          summary:
            'Output of a job; follow=true streams until it ends (developers and up; on production, the role that may deploy it)',
        },
      },
      schema: { params: Params, querystring: LogQuery },
    },
    async (request, reply) => {
      const job = await deploy.jobOutput(principalOf(request), (request.params as { id: string }).id)
      return sendLog(request, reply, deploy.logs, job.id, job.status === 'queued' || job.status === 'running')
    },
  )
}
