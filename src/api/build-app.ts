import { Ajv, type ValidateFunction } from 'ajv'
import { default as addFormats } from 'ajv-formats'
import Fastify, {
  LogController,
  type FastifyHttpOptions,
  type FastifyInstance,
  type FastifyReply,
} from 'fastify'
import type { Server } from 'node:http'
import type { FastifyValidationResult } from 'fastify/types/schema.js'
import type { AuditLog } from '../audit/index.js'
import type { Identity } from '../iam/index.js'
import type { Database, Kysely } from '../store/index.js'
import type { Tenancy } from '../tenancy/index.js'
import type { EdgeWorkersStatus } from '../edge/index.js'
import type { Runtimes, RuntimeUpdates } from '../runtimes/index.js'
import type { Logger } from '../shared/log.js'
import { randomToken } from '../shared/ids.js'
import { UnauthenticatedError } from '../shared/errors.js'
import { errorBody, sendError } from './errors.js'
import { answerClientError, API_MAX_URL_BYTES } from './client-errors.js'
import { createOpenApiCollector } from './openapi.js'
import { registerSignedRequests } from './signature.js'
import { registerMeRoutes } from './routes/me-routes.js'
import { registerPasswordResetRoutes } from './routes/password-reset-routes.js'
import { registerTokenRoutes } from './routes/token-routes.js'
import { registerSshKeyRoutes } from './routes/ssh-key-routes.js'
import { registerMemberRoutes } from './routes/member-routes.js'
import { maskSecretsInUrl, registerInvitationRoutes, requestLogView } from './routes/invitation-routes.js'
import { registerIpGroupRoutes } from './routes/ip-group-routes.js'
import type { Deploy } from '../deploy/index.js'
import type { Services, SyncService } from '../services/index.js'
import { registerSyncRoutes } from './routes/sync-routes.js'
import { registerServiceRoutes } from './routes/service-routes.js'
import { registerBackupRoutes } from './routes/backup-routes.js'
import { registerAccessRoutes } from './routes/access-routes.js'
import { registerAuditRoutes } from './routes/audit-routes.js'
import { registerDeploymentRoutes } from './routes/deployment-routes.js'
import { registerDomainRoutes } from './routes/domain-routes.js'
import { registerGitRoutes } from './routes/git-routes.js'
import { registerJobRoutes } from './routes/job-routes.js'
import { registerEnvironmentRoutes } from './routes/environment-routes.js'
import { registerHealthRoutes } from './routes/health-routes.js'
import { registerProjectRoutes } from './routes/project-routes.js'
import { registerRuntimeRoutes } from './routes/runtime-routes.js'
import { registerSessionRoutes } from './routes/session-routes.js'
import { registerSetupRoutes } from './routes/setup-routes.js'
import { registerVariableRoutes } from './routes/variable-routes.js'
import { registerWorkspaceRoutes } from './routes/workspace-routes.js'
import { registerWafRoutes } from './routes/waf-routes.js'
import { registerDecideRoutes, type DecideDeps } from './routes/decide-routes.js'
import { registerIncidentRoutes } from './routes/incident-routes.js'
import { registerMonitorRoutes } from './routes/monitor-routes.js'
import type { Monitor } from '../monitor/index.js'
import {
  consolePageFor,
  isCrossOrigin,
  registerConsoleRoutes,
  sendConsolePage,
  sessionCookieOf,
  type ConsoleFiles,
} from './console.js'

export interface AppDeps {
  readonly db: Kysely<Database>
  readonly identity: Identity
  readonly tenancy: Tenancy
  readonly audit: AuditLog
  /** Runtime catalog and update planner (defaults to the shipped snapshot). */
  readonly runtimes?: Runtimes
  /** Runtime update postponements and plans with their state (absent: plans only, no postponement). */
  readonly runtimeUpdates?: RuntimeUpdates
  readonly logger?: Logger | false
  readonly version: string
  /** The edge workers' status under `palisade serve` (health reports a worker that is behind). */
  readonly edgeWorkers?: () => EdgeWorkersStatus | undefined
  /** Called after the setup token was burnt (the composition root removes the token file). */
  readonly onSetupComplete?: () => void
  /** Public base URL (a signed request's @target-uri may use it). */
  readonly publicUrl?: string
  /** Deployments, jobs, access rules and domains (absent in API-only set-ups). */
  readonly deploy?: Deploy
  /** Managed MariaDB / Redis / PostgreSQL per environment (absent in API-only set-ups). */
  readonly services?: Services
  /** Environment sync with anonymization (absent in API-only set-ups). */
  readonly sync?: SyncService
  /** Told when an environment's edge-relevant settings (WAF tuning) change, so the edge can reload its route. */
  readonly onEnvironmentChanged?: (environmentId: string) => void
  /** Told after environments were deleted (directly or with their project or workspace), to stop what ran for them. */
  readonly onEnvironmentsRemoved?: () => void
  /** The traffic-decision endpoint (`POST /v1/decide`): the edge's compiled WAFs and a per-key rate. */
  readonly decide?: DecideDeps
  /** Metrics, environment logs and alerts (absent in API-only set-ups). */
  readonly monitor?: Monitor
  /** The web console's built files, served at `/` (absent: API only; the invitation link gets a plain page). */
  readonly console?: ConsoleFiles
  /** Session timeouts, shown to the console at sign-in. */
  readonly sessionPolicy?: { readonly idleMinutes: number; readonly absoluteHours: number }
  /** Extra route sets from other capabilities (deploy, services, edge…). */
  readonly plugins?: ReadonlyArray<(app: FastifyInstance) => void>
}

/** 1 MiB: DESIGN.md §9 API body limit. */
export const API_BODY_LIMIT = 1024 * 1024
/** Bearer values longer than this are refused before any lookup (cheap rejection of junk). */
const MAX_BEARER = 4096

function strictAjv(coerce: boolean): Ajv {
  // Bodies are never coerced ("1" stays a string); query strings and params are text and are.
  const ajv = new Ajv({
    removeAdditional: false,
    useDefaults: true,
    coerceTypes: coerce ? 'array' : false,
    allErrors: false,
    strict: false,
  })
  const withFormats = addFormats as unknown as (a: Ajv) => void
  withFormats(ajv)
  return ajv
}

/** An Ajv validator compiled at its first use; Fastify reads `errors` from the function it was given. */
function lazyValidator(ajv: Ajv, schema: object): FastifyValidationResult {
  let compiled: ValidateFunction | undefined
  const validate = (data: unknown): boolean => {
    compiled ??= ajv.compile(schema)
    const ok = compiled(data)
    validate.errors = compiled.errors ?? null
    return ok
  }
  validate.errors = null as ValidateFunction['errors'] | null
  return validate as FastifyValidationResult
}

function hostHeaders(raw: readonly string[]): number {
  let n = 0
  for (let i = 0; i < raw.length; i += 2) if ((raw[i] as string).toLowerCase() === 'host') n++
  return n
}

/** Whether a refused login asked for the second factor (read from the answer, for the login metrics). */
const loginCodes = new WeakMap<object, boolean>()

export function buildApp(deps: AppDeps): FastifyInstance {
  const options: FastifyHttpOptions<Server> = {
    bodyLimit: API_BODY_LIMIT,
    genReqId: () => `req_${randomToken(16)}`,
    requestIdHeader: false,
    trustProxy: false,
    // Requests that arrive while closing get 503 from onRequest below, in the documented format (Fastify's
    // own 503 has its own body and no request id).
    return503OnClosing: false,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    // Node's bare 400 for a missing Host would bypass the documented error format: checked in onRequest.
    http: { requireHostHeader: false },
    // Parser failures, bad percent-encoding and over-long path parameters in the documented format too.
    clientErrorHandler: answerClientError,
    frameworkErrors: (error, request, untyped) => {
      const reply = untyped as FastifyReply
      void reply.header('X-Request-Id', request.id)
      void reply.header('Cache-Control', 'no-store')
      void reply.header('X-Content-Type-Options', 'nosniff')
      // The message never echoes the path (no reflection of what the client sent).
      if (error.code === 'FST_ERR_MAX_PARAM_LENGTH')
        void reply.code(414).send(errorBody(request.id, 'uri_too_long', 'a path parameter is too long'))
      else
        void reply
          .code(400)
          .send(errorBody(request.id, 'invalid_request', 'the URL is not valid (malformed percent-encoding)'))
    },
    ...(deps.logger
      ? { loggerInstance: deps.logger.child({}, { serializers: { req: requestLogView } }) }
      : { logger: false }),
    // One line per request, written below (Fastify's own are two: "incoming request" and "request completed").
    logController: new LogController({ disableRequestLogging: true }),
  }
  const app = Fastify(options) as unknown as FastifyInstance
  const bodyAjv = strictAjv(false)
  const paramAjv = strictAjv(true)
  // Compiled on a route's first request, not at start: about a hundred routes' schemas would cost the
  // start-up a few hundred milliseconds (DESIGN.md §2: the API answers within a second of `npm start`).
  app.setValidatorCompiler(({ schema, httpPart }) =>
    lazyValidator(httpPart === 'body' ? bodyAjv : paramAjv, schema),
  )
  // Only JSON bodies: anything else is 415, never guessed.
  app.removeContentTypeParser(['text/plain'])

  const openapi = createOpenApiCollector({ title: 'Palisade API', version: deps.version })
  const patterns: Array<{ re: RegExp; method: string }> = []
  app.addHook('onRoute', (route) => {
    openapi.onRoute(route)
    const re = new RegExp(
      '^' + route.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z]+/g, '[^/]+') + '/?$',
    )
    for (const m of Array.isArray(route.method) ? route.method : [route.method])
      patterns.push({ re, method: m })
  })

  app.decorateRequest('principal', undefined)
  let closing = false
  app.addHook('preClose', (done) => {
    closing = true
    done()
  })
  app.addHook('onRequest', async (request, reply) => {
    void reply.header('X-Request-Id', request.id)
    void reply.header('Cache-Control', 'no-store')
    void reply.header('X-Content-Type-Options', 'nosniff')
    if (closing) {
      void reply.header('Connection', 'close')
      return reply.code(503).send(errorBody(request.id, 'unavailable', 'the server is shutting down; retry'))
    }
    if (Buffer.byteLength(request.url) > API_MAX_URL_BYTES)
      return reply.code(414).send(errorBody(request.id, 'uri_too_long', 'the request target is too long'))
    if (request.raw.httpVersion !== '1.0' && hostHeaders(request.raw.rawHeaders) !== 1)
      return reply
        .code(400)
        .send(errorBody(request.id, 'invalid_request', 'exactly one Host header is required'))
    // Common HTTP clients send `content-type: application/json` on a DELETE without a body; a DELETE takes no
    // body here, so an empty one is no body (not a 400 "empty JSON body").
    if (
      request.method === 'DELETE' &&
      request.headers['transfer-encoding'] === undefined &&
      (request.headers['content-length'] ?? '0') === '0'
    )
      delete request.headers['content-type']
    const meta = request.routeOptions.config.meta
    const header = request.headers.authorization
    if (typeof header === 'string' && header.length <= MAX_BEARER && /^Bearer [\x21-\x7e]+$/.test(header)) {
      request.principal = await deps.identity.authenticate(header.slice(7), { ip: request.ip })
    }
    // The console's session cookie (sessions only, never an API token), when no Authorization header was sent.
    let viaCookie = false
    if (header === undefined) {
      const cookie = sessionCookieOf(request)
      if (cookie?.startsWith('pss_')) {
        request.principal = await deps.identity.authenticate(cookie, { ip: request.ip })
        viaCookie = request.principal !== undefined
      }
    }
    if (isCrossOrigin(request, viaCookie, deps.publicUrl))
      return reply
        .code(403)
        .send(
          errorBody(
            request.id,
            'cross_origin',
            "a browser request that changes something must come from the console's own origin",
          ),
        )
    // A signature (RFC 9421) can authenticate on its own: registerSignedRequests decides after the body is read.
    const signed = meta?.signed === true || request.headers['signature-input'] !== undefined
    if (
      (meta?.auth ?? 'required') === 'required' &&
      !request.principal &&
      !signed &&
      request.routeOptions.url !== undefined
    ) {
      return sendError(
        request,
        reply,
        new UnauthenticatedError('PAL_API_UNAUTHENTICATED', 'a valid bearer token is required', {
          publicCode: 'unauthenticated',
        }),
      )
    }
    return undefined
  })

  const monitor = deps.monitor
  if (monitor) {
    // Requests by route template (never the raw path: bounded labels) and login outcomes for /metrics.
    app.addHook('onSend', async (request, reply, payload) => {
      if (
        reply.statusCode === 401 &&
        request.method === 'POST' &&
        request.routeOptions.url === '/v1/sessions'
      )
        loginCodes.set(request, typeof payload === 'string' && payload.includes('"code":"totp_required"'))
      return payload
    })
    app.addHook('onResponse', async (request, reply) => {
      monitor.api.record(
        request.routeOptions.url,
        request.method,
        reply.statusCode,
        loginCodes.get(request) === true ? 'totp_required' : undefined,
      )
    })
  }

  // One line per API call: reads that succeed at debug (a CLI session makes many), changes and refusals at
  // info, server errors at error; the URL with its secrets masked.
  app.addHook('onResponse', async (request, reply) => {
    const status = reply.statusCode
    const read = (request.method === 'GET' || request.method === 'HEAD') && status < 400
    const level = status >= 500 ? 'error' : read ? 'debug' : 'info'
    request.log[level](
      { status, ms: Math.round(reply.elapsedTime) },
      `${request.method} ${maskSecretsInUrl(request.url.split('?')[0] ?? '')}`,
    )
  })
  app.setErrorHandler((error, request, reply) => sendError(request, reply, error))
  app.setNotFoundHandler((request, reply) => {
    // A browser asking for a console page (its routes live in the client) gets the console.
    if (deps.console && consolePageFor(deps.console, request))
      return sendConsolePage(request, reply, deps.console)
    const path = request.url.split('?')[0] ?? ''
    const allowed = [...new Set(patterns.filter((p) => p.re.test(path)).map((p) => p.method))]
    if (allowed.length > 0) {
      void reply.header('Allow', allowed.join(', '))
      return reply
        .code(405)
        .send(
          errorBody(
            request.id,
            'method_not_allowed',
            `${request.method} is not allowed here; use ${allowed.join(', ')}`,
          ),
        )
    }
    return reply.code(404).send(errorBody(request.id, 'not_found', 'no such route'))
  })

  registerSignedRequests(app, deps)
  app.get(
    '/v1/openapi.json',
    { config: { meta: { auth: 'public', summary: 'OpenAPI 3.1 document' } } },
    async () => openapi.document(),
  )
  registerHealthRoutes(app, deps)
  if (deps.console) registerConsoleRoutes(app, deps.console)
  registerSetupRoutes(app, deps)
  registerSessionRoutes(app, deps)
  registerWorkspaceRoutes(app, deps)
  registerProjectRoutes(app, deps)
  registerEnvironmentRoutes(app, deps)
  registerVariableRoutes(app, deps)
  registerAuditRoutes(app, deps)
  registerWafRoutes(app, deps)
  registerRuntimeRoutes(app, deps)
  if (deps.deploy) {
    const monitor = deps.monitor
    registerDeploymentRoutes(app, deps.deploy, monitor ? (id) => monitor.environmentHealth(id) : undefined)
  }
  if (deps.deploy) registerJobRoutes(app, deps.deploy)
  if (deps.deploy) registerAccessRoutes(app, deps.deploy)
  if (deps.deploy) registerDomainRoutes(app, deps.deploy)
  if (deps.deploy)
    registerGitRoutes(app, {
      identity: deps.identity,
      deploy: deps.deploy,
      ...(deps.logger ? { logger: deps.logger } : {}),
    })
  if (deps.services) registerServiceRoutes(app, deps.services)
  if (deps.sync) registerSyncRoutes(app, deps.sync)
  if (deps.services) registerBackupRoutes(app, deps.services)
  if (deps.decide) registerDecideRoutes(app, { tenancy: deps.tenancy, ...deps.decide })
  registerMeRoutes(app, deps)
  registerTokenRoutes(app, deps)
  registerSshKeyRoutes(app, deps)
  registerMemberRoutes(app, deps)
  registerInvitationRoutes(app, deps)
  registerPasswordResetRoutes(app, deps)
  registerIpGroupRoutes(app, deps)
  registerIncidentRoutes(app, deps)
  if (deps.monitor) registerMonitorRoutes(app, { db: deps.db, tenancy: deps.tenancy, monitor: deps.monitor })
  for (const plugin of deps.plugins ?? []) plugin(app)
  return app
}
