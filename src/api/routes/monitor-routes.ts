import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { Database, Kysely } from '../../store/index.js'
import type { Tenancy } from '../../tenancy/index.js'
import { MONITOR_ERRORS, type EnvLogLine, type Monitor } from '../../monitor/index.js'
import { UnauthenticatedError } from '../../shared/errors.js'
import { contextOf, principalOf } from '../context.js'
import { followStreams } from '../follow-streams.js'
import { Id, Name, Strict } from '../schemas.js'

export interface MonitorRouteDeps {
  readonly db: Kysely<Database>
  readonly tenancy: Tenancy
  readonly monitor: Monitor
}

const MAX_BEARER = 4096

/**
 * Whether a `metrics`-scoped API token may read the platform's metrics: they hold every tenant's traffic
 * figures, so only an owner or admin of the installation's first workspace (the one `palisade setup` created:
 * the operators) may. Other users' `metrics` tokens are refused.
 */
async function isOperator(db: Kysely<Database>, userId: string): Promise<boolean> {
  const first = await db
    .selectFrom('workspaces')
    .select('id')
    .orderBy('created_at', 'asc')
    .orderBy('id', 'asc')
    .limit(1)
    .executeTakeFirst()
  if (!first) return false
  const m = await db
    .selectFrom('memberships')
    .select('role')
    .where('workspace_id', '=', first.id)
    .where('user_id', '=', userId)
    .executeTakeFirst()
  return m?.role === 'owner' || m?.role === 'admin'
}

const LogsQuery = Strict({
  follow: Type.Optional(Type.Boolean({ description: 'keep the response open and stream new lines' })),
  source: Type.Optional(
    Type.Union([Type.Literal('all'), Type.Literal('app'), Type.Literal('access')], {
      description: "app: the current release's output; access: the edge's access log of this environment",
    }),
  ),
  status: Type.Optional(
    Type.String({ maxLength: 3, description: 'access lines with this status (404) or class (5xx)' }),
  ),
  pathPrefix: Type.Optional(
    Type.String({ maxLength: 512, description: 'access lines whose path starts with this' }),
  ),
  since: Type.Optional(
    Type.String({ maxLength: 40, description: 'a duration back (10m, 2h, 1d) or an ISO 8601 time' }),
  ),
  lines: Type.Optional(
    Type.Integer({ minimum: 0, maximum: 5000, description: 'kept lines to send first (default 100)' }),
  ),
})

const HealthSchema = Type.Object({
  status: Type.Literal('ok'),
  failure: Type.Null(),
})

export function registerMonitorRoutes(app: FastifyInstance, deps: MonitorRouteDeps): void {
  const { monitor } = deps
  const follow = followStreams(app)
  app.get(
    '/metrics',
    {
      config: {
        meta: {
          auth: 'public',
          summary:
            'Prometheus metrics (text format 0.0.4); Authorization: Bearer PALISADE_METRICS_TOKEN or an operator token with the metrics scope',
        },
      },
    },
    async (request, reply) => {
      const header = request.headers.authorization
      const bearer =
        typeof header === 'string' && header.length <= MAX_BEARER && header.startsWith('Bearer ')
          ? header.slice(7)
          : null
      const principal = request.principal
      const allowed =
        (bearer !== null && monitor.isMetricsToken(bearer)) ||
        (principal?.type === 'token' &&
          principal.scopes.includes('metrics') &&
          (await isOperator(deps.db, principal.userId)))
      if (!allowed)
        throw new UnauthenticatedError(
          MONITOR_ERRORS.metricsUnauthenticated,
          'GET /metrics needs the metrics token (PALISADE_METRICS_TOKEN) or an operator API token with the metrics scope',
          { publicCode: 'unauthenticated' },
        )
      const text = await monitor.metrics.render()
      return reply.type(monitor.metrics.contentType).send(text)
    },
  )

  app.delete(
    '/v1/environments/:id/failure',
    {
      config: {
        meta: {
          auth: 'required',
          audit: 'environment.failure.clear',
          summary:
            "Clear the environment's failed mark by hand (who may deploy it may); an app still crash-looping is marked again",
        },
      },
      schema: { params: Strict({ id: Id }), response: { 200: HealthSchema } },
    },
    async (request) =>
      monitor.clearFailure(principalOf(request), contextOf(request), (request.params as { id: string }).id),
  )

  app.get(
    '/v1/environments/:id/logs',
    {
      config: {
        meta: {
          auth: 'required',
          summary:
            "An environment's app output and edge access log as JSON lines (application/x-ndjson), filtered; follow keeps streaming",
        },
      },
      schema: { params: Strict({ id: Id }), querystring: LogsQuery },
    },
    async (request, reply) => {
      const { id } = request.params as { id: string }
      const q = request.query as {
        follow?: boolean
        source?: string
        status?: string
        pathPrefix?: string
        since?: string
        lines?: number
      }
      await deps.tenancy.environments.load(principalOf(request), id, 'deployment.read')
      const query = {
        ...(q.source === undefined ? {} : { source: q.source }),
        ...(q.status === undefined ? {} : { status: q.status }),
        ...(q.pathPrefix === undefined ? {} : { pathPrefix: q.pathPrefix }),
        ...(q.since === undefined ? {} : { since: q.since }),
        ...(q.lines === undefined ? {} : { lines: q.lines }),
      }
      const encode = (l: EnvLogLine): string => JSON.stringify(l) + '\n'
      if (!q.follow) {
        const lines = await monitor.readLog(id, query)
        return reply.type('application/x-ndjson').send(lines.map(encode).join(''))
      }
      const out = await follow(request, (stream) =>
        monitor.followLog(id, query, (line) => stream.write(encode(line))),
      )
      return reply.type('application/x-ndjson').send(out)
    },
  )

  registerAlertRoutes(app, monitor)
}

function registerAlertRoutes(app: FastifyInstance, monitor: Monitor): void {
  const config = monitor.alertConfig
  const Ws = Strict({ ws: Id })
  app.get(
    '/v1/workspaces/:ws/alert-rules',
    {
      config: {
        meta: { auth: 'required', summary: "Built-in alert rules with this workspace's thresholds" },
      },
      schema: { params: Ws },
    },
    async (request) => config.rules(principalOf(request), (request.params as { ws: string }).ws),
  )
  app.put(
    '/v1/workspaces/:ws/alert-rules/:name',
    {
      config: {
        meta: { auth: 'required', audit: 'alert.rule.update', summary: 'Tune or mute a built-in alert rule' },
      },
      schema: {
        params: Strict({ ws: Id, name: Type.String({ minLength: 1, maxLength: 40 }) }),
        body: Strict({
          threshold: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
          muted: Type.Optional(Type.Boolean()),
          repeatMinutes: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
        }),
      },
    },
    async (request) => {
      const p = request.params as { ws: string; name: string }
      return config.tuneRule(
        principalOf(request),
        contextOf(request),
        p.ws,
        p.name,
        request.body as { threshold?: number | null; muted?: boolean; repeatMinutes?: number | null },
      )
    },
  )
  app.get(
    '/v1/workspaces/:ws/alert-channels',
    {
      config: { meta: { auth: 'required', summary: 'Alert notification channels (secrets never shown)' } },
      schema: { params: Ws },
    },
    async (request) => config.channels(principalOf(request), (request.params as { ws: string }).ws),
  )
  app.post(
    '/v1/workspaces/:ws/alert-channels',
    {
      config: {
        meta: {
          auth: 'required',
          audit: 'alert.channel.create',
          summary:
            "Add an e-mail or signed-webhook channel; a webhook's signing secret is in this answer only",
        },
      },
      schema: {
        params: Ws,
        body: Strict({
          name: Name,
          kind: Type.Union([Type.Literal('email'), Type.Literal('webhook')]),
          email: Type.Optional(Type.String({ maxLength: 320 })),
          url: Type.Optional(Type.String({ maxLength: 2048 })),
          format: Type.Optional(Type.Union([Type.Literal('palisade'), Type.Literal('slack')])),
        }),
      },
    },
    async (request, reply) =>
      reply
        .code(201)
        .send(
          await config.createChannel(
            principalOf(request),
            contextOf(request),
            (request.params as { ws: string }).ws,
            request.body as Parameters<typeof config.createChannel>[3],
          ),
        ),
  )
  app.delete(
    '/v1/workspaces/:ws/alert-channels/:id',
    {
      config: {
        meta: {
          auth: 'required',
          audit: 'alert.channel.delete',
          summary: 'Remove an alert channel and its delivery history',
        },
      },
      schema: { params: Strict({ ws: Id, id: Id }) },
    },
    async (request, reply) => {
      const p = request.params as { ws: string; id: string }
      await config.deleteChannel(principalOf(request), contextOf(request), p.ws, p.id)
      return reply.code(204).send()
    },
  )
  app.get(
    '/v1/workspaces/:ws/alerts',
    {
      config: {
        meta: { auth: 'required', summary: 'Alerts of a workspace, newest first (firing and resolved)' },
      },
      schema: {
        params: Ws,
        querystring: Strict({
          status: Type.Optional(Type.Union([Type.Literal('firing'), Type.Literal('resolved')])),
        }),
      },
    },
    async (request) =>
      config.alerts(
        principalOf(request),
        (request.params as { ws: string }).ws,
        (request.query as { status?: 'firing' | 'resolved' }).status,
      ),
  )
  app.get(
    '/v1/workspaces/:ws/alert-deliveries',
    {
      config: {
        meta: { auth: 'required', summary: 'Notification delivery history (attempts, answers, errors)' },
      },
      schema: { params: Ws },
    },
    async (request) => config.deliveries(principalOf(request), (request.params as { ws: string }).ws),
  )
}
