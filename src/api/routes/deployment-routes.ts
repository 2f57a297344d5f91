import { PassThrough } from 'node:stream'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { DEPLOYMENT_STATUSES, type Deploy, type Deployment, type LogStore } from '../../deploy/index.js'
import { contextOf, principalOf } from '../context.js'
import { Id, PageOf, PageQuery, Strict, Timestamp } from '../schemas.js'

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()])

export const DeploymentSchema = Type.Object({
  id: Type.String(),
  environmentId: Type.String(),
  number: Type.Integer(),
  kind: Type.Union([Type.Literal('deploy'), Type.Literal('rollback'), Type.Literal('runtime-update')], {
    description: 'runtime-update: the platform rebuilt the current code on a newer runtime version',
  }),
  status: Type.Union(DEPLOYMENT_STATUSES.map((s) => Type.Literal(s))),
  ref: Nullable(Type.String()),
  commit: Nullable(Type.String()),
  release: Type.Union([Type.Integer(), Type.Null()]),
  createdAt: Timestamp,
  startedAt: Type.Union([Timestamp, Type.Null()]),
  finishedAt: Type.Union([Timestamp, Type.Null()]),
  reason: Nullable(Type.String()),
  runtimeVersion: Nullable(
    Type.String({
      description: 'the exact runtime version the release runs on (node@20 → 20.19.6); null when not pinned',
    }),
  ),
})

const ProcessStatusSchema = Type.Object({
  instanceId: Type.String(),
  state: Type.Union(['starting', 'running', 'crashed', 'backoff', 'stopped'].map((s) => Type.Literal(s))),
  restarts: Type.Integer(),
  pid: Type.Union([Type.Integer(), Type.Null()]),
  lastExit: Type.Union([
    Type.Object({
      code: Type.Union([Type.Integer(), Type.Null()]),
      signal: Type.Union([Type.String(), Type.Null()]),
      at: Timestamp,
    }),
    Type.Null(),
  ]),
  nextRestartInMs: Type.Union([Type.Integer(), Type.Null()]),
  usage: Type.Optional(
    Type.Union([
      Type.Object({
        memoryBytes: Type.Integer({ description: 'memory in use (resident, page cache included)' }),
        memoryLimitBytes: Type.Integer({ description: 'the instance limit (sizing.memoryMb)' }),
        cpuUsageUs: Type.Integer({ description: 'CPU time used since the instance started, microseconds' }),
        cpuRecent: Type.Union([Type.Number(), Type.Null()], {
          description:
            'CPUs in use since the previous status call (1 = one core busy); null on the first call',
        }),
        pids: Type.Integer(),
        pidsMax: Type.Integer(),
      }),
      Type.Null(),
    ]),
  ),
  oomKills: Type.Optional(Type.Integer({ description: 'times the kernel killed the instance for memory' })),
  lastOomAt: Type.Optional(Type.Union([Timestamp, Type.Null()])),
})

const InstanceStatusSchema = Type.Object({
  ...ProcessStatusSchema.properties,
  healthy: Type.Boolean({ description: 'the edge sends it requests' }),
})

const StatusSchema = Type.Object({
  environmentId: Type.String(),
  currentRelease: Type.Union([Type.Integer(), Type.Null()]),
  currentDeploymentId: Type.Union([Type.String(), Type.Null()]),
  maintenance: Type.Boolean(),
  process: Type.Union([ProcessStatusSchema, Type.Null()]),
  instances: Type.Array(InstanceStatusSchema),
  sizing: Type.Object({ instances: Type.Integer(), memoryMb: Type.Integer(), cpu: Type.Number() }),
  limits: Type.Union([Type.Literal('cgroup-v1'), Type.Literal('cgroup-v2'), Type.Literal('none')], {
    description: 'whether this host enforces the sizing (none: not root, or no cgroups)',
  }),
  isolation: Type.Union([Type.Literal('namespaces'), Type.Literal('none')]),
  status: Type.Union([Type.Literal('ok'), Type.Literal('failed')], {
    description:
      'failed: the app crash-loops (marked by the monitor); cleared when a deployment succeeds, or by hand (DELETE /v1/environments/{id}/failure)',
  }),
  failure: Type.Union([
    Type.Object({
      reason: Type.Literal('crash_loop'),
      summary: Type.String(),
      since: Timestamp,
      deploymentId: Type.Union([Type.String(), Type.Null()]),
    }),
    Type.Null(),
  ]),
})

export const LogQuery = Strict({
  follow: Type.Optional(
    Type.Boolean({ description: 'keep the response open and stream new output until the work ends' }),
  ),
  untilFinished: Type.Optional(
    Type.Boolean({
      description:
        'with follow: end the stream when the deployment finishes, even if its release keeps serving',
    }),
  ),
  format: Type.Optional(
    Type.Union([Type.Literal('text'), Type.Literal('ndjson')], {
      description: 'text/plain (default) or one {"text"} object per line',
    }),
  ),
})

/**
 * Streams a log: what is stored so far, then (with follow) every append until `end`. The text format is
 * the raw output; NDJSON wraps each chunk as `{"text": "…"}` so that clients never split a line badly.
 */
export function sendLog(
  request: FastifyRequest,
  reply: FastifyReply,
  logs: LogStore,
  key: string,
  live: boolean,
  finished?: () => Promise<boolean>,
): FastifyReply {
  const q = request.query as { follow?: boolean; format?: 'text' | 'ndjson'; untilFinished?: boolean }
  const ndjson = q.format === 'ndjson'
  const encode = (text: string): string => (ndjson ? JSON.stringify({ text }) + '\n' : text)
  void reply.type(ndjson ? 'application/x-ndjson' : 'text/plain; charset=utf-8')
  const stored = logs.read(key)
  if (!q.follow || !live) return reply.send(stored === '' ? '' : encode(stored))
  const out = new PassThrough()
  if (stored !== '') out.write(encode(stored))
  const unsubscribe = logs.subscribe(key, (event) => {
    if ('text' in event) out.write(encode(event.text))
    else out.end()
  })
  if (q.untilFinished && finished) {
    const timer = setInterval(() => {
      void finished().then((yes: boolean) => {
        if (yes) out.end()
      })
    }, 250)
    out.on('close', () => clearInterval(timer))
  }
  out.on('close', unsubscribe)
  request.raw.on('close', () => {
    unsubscribe()
    out.end()
  })
  return reply.send(out)
}

/** An environment's health as the monitor marks it (`failed` while its app crash-loops). */
export type HealthOf = (
  envId: string,
) => Promise<{ status: 'ok' | 'failed'; failure: Record<string, unknown> | null }>

export function registerDeploymentRoutes(
  app: FastifyInstance,
  deploy: Deploy,
  healthOf: HealthOf = () => Promise.resolve({ status: 'ok', failure: null }),
): void {
  const Params = Strict({ id: Id })
  app.get(
    '/v1/environments/:id/deployments',
    {
      config: { meta: { auth: 'required', summary: 'Deployments of an environment, newest first' } },
      schema: { params: Params, querystring: PageQuery, response: { 200: PageOf(DeploymentSchema) } },
    },
    async (request) =>
      deploy.list(
        principalOf(request),
        (request.params as { id: string }).id,
        request.query as { cursor?: string; limit?: number },
      ),
  )
  app.post(
    '/v1/environments/:id/deployments',
    {
      config: {
        meta: {
          auth: 'required',
          audit: 'environment.deployment.create',
          summary: 'Deploy the environment’s branch (or ref); queued behind running work',
        },
      },
      schema: {
        params: Params,
        body: Type.Optional(Strict({ ref: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) })),
        response: { 201: DeploymentSchema },
      },
    },
    async (request, reply) => {
      const body = (request.body ?? {}) as { ref?: string }
      const input = body.ref === undefined ? {} : { ref: body.ref }
      return reply
        .code(201)
        .send(
          await deploy.create(
            principalOf(request),
            contextOf(request),
            (request.params as { id: string }).id,
            input,
          ),
        )
    },
  )
  app.post(
    '/v1/environments/:id/rollback',
    {
      config: {
        meta: {
          auth: 'required',
          audit: 'environment.rollback',
          summary: 'Start the release before the current one again, without a rebuild',
        },
      },
      schema: { params: Params, response: { 201: DeploymentSchema } },
    },
    async (request, reply) =>
      reply
        .code(201)
        .send(
          await deploy.rollback(
            principalOf(request),
            contextOf(request),
            (request.params as { id: string }).id,
          ),
        ),
  )
  app.get(
    '/v1/environments/:id/status',
    {
      config: {
        meta: {
          auth: 'required',
          summary:
            'Current release, maintenance flag and process state (running, crashed, backoff) with restart count',
        },
      },
      schema: { params: Params, response: { 200: StatusSchema } },
    },
    async (request) => {
      const id = (request.params as { id: string }).id
      // deploy.status authorizes the read; the health is read only after it.
      const status = await deploy.status(principalOf(request), id)
      return { ...status, ...(await healthOf(id)) }
    },
  )
  app.get(
    '/v1/deployments/:id',
    {
      config: { meta: { auth: 'required' } },
      schema: { params: Params, response: { 200: DeploymentSchema } },
    },
    async (request) => deploy.get(principalOf(request), (request.params as { id: string }).id),
  )
  app.get(
    '/v1/deployments/:id/logs',
    {
      config: {
        meta: {
          auth: 'required',
          summary:
            'Build log and app output of a deployment; follow=true streams until the deployment ends (or, for the serving one, until its process stops)',
        },
      },
      schema: { params: Params, querystring: LogQuery },
    },
    async (request, reply) => {
      const d: Deployment = await deploy.get(principalOf(request), (request.params as { id: string }).id)
      const principal = principalOf(request)
      const finished = async (): Promise<boolean> => {
        const cur = await deploy.get(principal, d.id)
        return cur.status === 'succeeded' || cur.status === 'failed'
      }
      return sendLog(request, reply, deploy.logs, d.id, deploy.isLive(d), finished)
    },
  )
}
