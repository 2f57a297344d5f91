import { randomUUID } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { STATUS_CODES, request as httpRequest, createServer as createHttpServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse, ClientRequest } from 'node:http'
import { createSecureServer, type ServerHttp2Session } from 'node:http2'
import type { AddressInfo, Server as NetServer, Socket } from 'node:net'
import { createSecureContext, type SecureContext, type TLSSocket } from 'node:tls'
import type { Duplex } from 'node:stream'
import { ACME_CHALLENGE_PREFIX, AcmeChallengeStore, AcmeIssuer, isAcmeToken } from './acme.js'
import { ACCESS_LOG_MESSAGE, createAccessLineWriter } from './access-log-writer.js'
import { leavesDue, RENEW_BEFORE_MS } from './cert-renewal.js'
import { edgePaths } from './edge-paths.js'
import { BasicAuthVerifier, parseBasicAuth } from './basic-auth.js'
import { EdgeConfigError } from './errors.js'
import { InternalError } from '../shared/errors.js'
import { forwardRequestHeaders, forwardResponseHeaders } from './headers.js'
import { compileAllowList, parseClientAddress, type AllowList } from './ip-allow.js'
import type { CertificatePair, LocalCa } from './local-ca.js'
import { maskAuthorization, maskCookie, maskUrl, maskValues } from './mask.js'
import {
  NOT_DEPLOYED_PAGE,
  PAGES,
  rawErrorResponse,
  TOO_MANY_CONNECTIONS_PAGE,
  WAF_BLOCK_PAGE,
  WAF_UNAVAILABLE_PAGE,
  sendPage,
} from './pages.js'
import { checkRequestTarget } from './request-target.js'
import { normalizeHost, RouteTable, type CompiledRoute } from './route-table.js'
import { contentTypeFor, openStatic, resolveStatic } from './static-files.js'
import { clientKey, MemoryThrottle } from './throttle.js'
import { adaptHttp2Request, guardAgainstRapidReset, http2HasBody, HTTP2_LIMITS } from './http2.js'
import type {
  AccessLogEntry,
  EdgeBasicAuth,
  EdgeDeps,
  EdgeOptions,
  EdgeRoute,
  EdgeUpstream,
  InspectedRequest,
  ThrottleDecision,
  Verdict,
} from './types.js'
import { upstreamKey, UpstreamPools } from './upstream-pool.js'
import { Balancer, upstreamsOf } from './balancer.js'

export interface Edge {
  /** Binds both listeners; resolves with their addresses (port 0 picks a free one). */
  listen(): Promise<{ http: AddressInfo; https: AddressInfo }>
  /** Stops accepting, closes open connections and upstream pools. */
  close(): Promise<void>
  readonly routes: RouteTable
  readonly ca: LocalCa
  readonly challenges: AcmeChallengeStore
  /** Present when ACME is configured. */
  readonly acme: AcmeIssuer | null
  /**
   * Renews the local CA's certificates of routed hosts that are within the renewal window (`RENEW_BEFORE_MS`)
   * by the edge's clock, or will be within `aheadMs` (the time to the caller's next round), and replaces their
   * cached TLS contexts; returns the hosts renewed. A host whose
   * renewal fails is logged and left (its certificate-expiry alert keeps firing).
   */
  renewCertificates(aheadMs?: number): Promise<string[]>
  /** Drops the cached TLS context of `host` (its certificate file changed: an ACME certificate was issued). */
  forgetCertificate(host: string): void
}

const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/
/** The rule ids of a clean verdict (one shared empty list, not one per request). */
const NO_RULES: readonly string[] = Object.freeze([])
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE'])
/** Failed Basic logins per client and environment: 10 at once, then one every 5 s (password guessing). */
const LOGIN_RATE = 0.2
const LOGIN_BURST = 10

/** Per-request state that outlives the pipeline for the access log. */
interface Exchange {
  readonly req: IncomingMessage
  readonly res: ServerResponse
  readonly tls: boolean
  /** performance.now() when the request arrived (a double: no BigInt per request). */
  readonly startedMs: number
  readonly requestId: string
  /** The connected peer's address (IPv4-mapped IPv6 as plain IPv4). */
  readonly peer: string
  readonly clientIp: string
  readonly trusted: boolean
  host: string
  route: EdgeRoute | null
  /** The upstream request in flight, aborted if the client goes away first. */
  upstream: ClientRequest | null
  outcome: string | null
  bytesOut: number
  ruleIds: readonly string[] | undefined
  /** Upstreams this request already failed on (not tried again while another instance is left). */
  tried: Set<string> | null
}

type TrustCheck = (peer: string) => boolean
type Mutable<T> = { -readonly [K in keyof T]: T[K] }

function parseListen(value: string, name: string): { host: string; port: number } {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value)
  const port = match ? Number(match[3]) : NaN
  if (!match || port > 65_535)
    throw new EdgeConfigError('PAL_EDGE_LISTEN_INVALID', `${name} must be host:port`)
  return { host: (match[1] ?? match[2]) as string, port }
}

/**
 * The `for=` addresses of a `Forwarded` header (RFC 7239), nearest hop last: quotes, IPv6 brackets and
 * ports removed. An element without `for=`, or with an obfuscated one (`unknown`, `_hidden`), yields a
 * value that is not an address, which stops the walk at the peer.
 */
export function forwardedFor(header: string): string[] {
  return header.split(',').map((element) => {
    for (const pair of element.split(';')) {
      const eq = pair.indexOf('=')
      if (eq < 0 || pair.slice(0, eq).trim().toLowerCase() !== 'for') continue
      let value = pair.slice(eq + 1).trim()
      if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1)
      if (value.startsWith('['))
        return value.slice(1, value.indexOf(']') > 0 ? value.indexOf(']') : undefined)
      const colon = value.indexOf(':')
      return plainAddress(colon > 0 && value.indexOf(':', colon + 1) < 0 ? value.slice(0, colon) : value)
    }
    return ''
  })
}

function compileTrust(trustProxy: EdgeOptions['trustProxy']): TrustCheck {
  if (trustProxy === true) return () => true
  if (trustProxy === false || trustProxy.length === 0) return () => false
  const list: AllowList = compileAllowList(trustProxy)
  return (peer) => list.has(peer)
}

function isThenable<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function'
}

function plainAddress(address: string | undefined): string {
  if (!address) return ''
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address
}

/**
 * Creates the edge gateway: routing by Host, restrictions, throttling, the WAF hook, and a proxy to each
 * environment's current release. Opens (or creates) the local CA under `<dataDir>/edge/ca/` (edgePaths).
 */
export async function createEdge(options: EdgeOptions, deps: EdgeDeps): Promise<Edge> {
  const opts = Object.freeze({ ...options, limits: Object.freeze({ ...options.limits }) })
  const httpAddr = parseListen(opts.httpListen, 'httpListen')
  const httpsAddr = parseListen(opts.httpsListen, 'httpsListen')
  const now = deps.now ?? Date.now
  const isTrusted = compileTrust(opts.trustProxy)
  const trustList = Array.isArray(opts.trustProxy)
  const routes = new RouteTable()
  // The local CA (and the X.509 library behind it, ~100 ms to load) opens when the edge starts listening,
  // so that the control plane answers sooner at start.
  let ca: LocalCa | undefined
  let caOpening: Promise<LocalCa> | undefined
  const openCa = (): Promise<LocalCa> =>
    (caOpening ??= import('./local-ca.js').then(({ LocalCa }) => LocalCa.open(opts.dataDir, { now }))).then(
      (opened) => (ca = opened),
    )
  const challenges = new AcmeChallengeStore()
  const acme = opts.acme ? new AcmeIssuer(opts.acme, opts.dataDir, challenges) : null
  const pools = new UpstreamPools({ idleMs: Math.min(4_000, opts.limits.idleTimeoutMs) })
  const balancer = new Balancer({ inFlight: (key) => pools.inFlight(key) })
  const throttle = deps.throttle ?? new MemoryThrottle({ now })
  const loginThrottle = deps.loginThrottle ?? new MemoryThrottle({ now })
  const verifier = new BasicAuthVerifier({ now })
  const inspector = deps.inspector
  const logger = deps.logger
  const accessLogger = deps.accessLogger ?? logger
  // A plain pino logger gets the line built from one JSON.stringify per request (null: `info` it is).
  const accessLine = createAccessLineWriter(accessLogger)
  const secureContexts = new Map<string, { ctx: SecureContext; notAfter: number }>()
  let publicHttpsPort = opts.publicHttpsPort ?? httpsAddr.port

  routes.onChange(() => {
    const live = new Set<string>()
    for (const r of routes.list())
      if (r.target.kind === 'proxy') for (const u of upstreamsOf(r.target)) live.add(upstreamKey(u))
    pools.retainOnly(live)
    // Certificates of hosts that left the table are forgotten (they are re-read from disk if they come back).
    for (const host of secureContexts.keys()) if (!routes.lookupCompiled(host)) secureContexts.delete(host)
  })

  function clientAddressOf(req: IncomingMessage, peer: string, trusted: boolean): string {
    if (!trusted) return peer
    const xff = req.headers['x-forwarded-for']
    const forwarded = req.headers['forwarded']
    let hops: string[]
    if (typeof xff === 'string' && xff !== '') hops = xff.split(',').map((h) => plainAddress(h.trim()))
    else if (typeof forwarded === 'string' && forwarded !== '') hops = forwardedFor(forwarded)
    else return peer
    // Walk from the nearest hop outwards; with a list, skip our own trusted proxies.
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i] as string
      if (!parseClientAddress(hop)) return peer
      if (!trustList || !isTrusted(hop) || i === 0) return hop
    }
    return peer
  }

  function writeAccessLog(x: Exchange): void {
    const req = x.req
    const secrets = x.route ? deps.secretValues?.(x.route.environmentId) : undefined
    const headers = req.headers
    const userAgent = headers['user-agent']
    const referer = headers.referer
    const entry: Mutable<AccessLogEntry> = {
      requestId: x.requestId,
      environmentId: x.route?.environmentId ?? null,
      workspaceId: x.route?.workspaceId ?? null,
      clientIp: x.clientIp,
      method: req.method ?? '',
      host: x.host,
      path: maskUrl(req.url ?? '', secrets),
      protocol: x.tls ? 'https' : 'http',
      status: x.res.statusCode,
      bytesOut: x.bytesOut,
      durationMs: performance.now() - x.startedMs,
      outcome: x.res.writableFinished ? x.outcome : (x.outcome ?? 'client_closed'),
      userAgent: userAgent === undefined ? null : maskValues(userAgent, secrets),
      referer: referer ? maskUrl(referer, secrets) : null,
      authorization: maskAuthorization(headers.authorization),
      cookie: maskCookie(headers.cookie),
    }
    // set afterwards rather than spread in: an object spread per request is a slow copy
    if (x.ruleIds !== undefined && x.ruleIds.length > 0) entry.ruleIds = x.ruleIds
    try {
      if (accessLine) accessLine.write(entry)
      else accessLogger?.info(entry, ACCESS_LOG_MESSAGE)
      deps.onAccessLog?.(entry)
    } catch {
      // a failing log sink must not take traffic down
    }
  }

  function page(
    x: Exchange,
    status: keyof typeof PAGES,
    outcome: string,
    extra?: Record<string, string>,
  ): void {
    x.outcome = outcome
    if (x.res.headersSent) {
      x.res.destroy()
      return
    }
    x.bytesOut = sendPage(
      x.res,
      status,
      PAGES[status],
      x.requestId,
      x.req.headers.accept,
      extra,
      x.req.method === 'HEAD',
    )
  }

  /** Per-request state; a request id from the client is kept only when it comes through a trusted proxy. */
  function newExchange(req: IncomingMessage, res: ServerResponse, tls: boolean): Exchange {
    const peer = plainAddress(req.socket.remoteAddress)
    const trusted = isTrusted(peer)
    const givenId = req.headers['x-request-id']
    return {
      req,
      res,
      tls,
      startedMs: performance.now(),
      requestId:
        trusted && typeof givenId === 'string' && REQUEST_ID_RE.test(givenId) ? givenId : randomUUID(),
      peer,
      clientIp: clientAddressOf(req, peer, trusted),
      trusted,
      host: normalizeHost(req.headers.host),
      route: null,
      upstream: null,
      outcome: null,
      bytesOut: 0,
      ruleIds: undefined,
      tried: null,
    }
  }

  // The pipeline stays synchronous until a step really waits (argon2, a remote throttle, an async WAF, a
  // body): a promise per step costs measurable CPU per request on the hot path.
  function handle(req: IncomingMessage, res: ServerResponse, tls: boolean): void | Promise<void> {
    const x = newExchange(req, res, tls)
    // 'close' is emitted once: `on` spares the wrapper `once` allocates per request.
    res.on('close', () => {
      if (x.upstream !== null && !res.writableFinished) x.upstream.destroy()
      writeAccessLog(x)
    })

    if (!acceptTarget(x)) return
    const url = req.url ?? '/'
    if (!tls && url.startsWith('/.well-known/acme-challenge/')) {
      const answer = challenges.answer(url)
      if (answer !== undefined) {
        x.outcome = 'acme_challenge'
        x.bytesOut = Buffer.byteLength(answer)
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(x.bytesOut) })
        res.end(answer)
        return
      }
      // A token no CA issues (bad characters) is not passed on to an app: its own ACME client never asked.
      if (!isAcmeToken(url.slice(ACME_CHALLENGE_PREFIX.length))) return page(x, 404, 'acme_challenge_invalid')
    }

    const host = x.host
    const compiled = host === '' ? undefined : routes.lookupCompiled(host)
    if (!compiled) return page(x, 404, 'unknown_host')
    const route = compiled.route
    x.route = route

    if (tls) {
      // Domain fronting: a TLS session for one tenant's name must not carry another tenant's requests.
      const servername = (req.socket as TLSSocket).servername
      if (typeof servername === 'string' && normalizeHost(servername) !== host) {
        return page(x, 421, 'misdirected')
      }
    }

    if (!tls && route.httpsRedirect) {
      const port = publicHttpsPort === 443 ? '' : `:${publicHttpsPort}`
      x.outcome = 'https_redirect'
      res.writeHead(308, {
        location: `https://${host}${port}${url.startsWith('/') ? url : '/'}`,
        'content-length': '0',
        'x-request-id': x.requestId,
      })
      res.end()
      return
    }

    const answered = checkAccess(x, compiled)
    if (answered === true) return
    if (answered !== false) return answered.then((done) => (done ? undefined : afterAccess(x, route)))
    return afterAccess(x, route)
  }

  /**
   * One Host, a target that names no other authority (rewritten to origin form), and a target within
   * `maxUrlBytes`. Returns false when it answered (400 / 414, and the connection is closed).
   */
  function acceptTarget(x: Exchange): boolean {
    const req = x.req
    const target = checkRequestTarget(req.url ?? '', req.rawHeaders, req.httpVersion)
    if (target.ok && Buffer.byteLength(target.path) <= opts.limits.maxUrlBytes) {
      req.url = target.path
      return true
    }
    x.res.shouldKeepAlive = false
    if (target.ok) page(x, 414, 'uri_too_long', { connection: 'close' })
    else page(x, 400, target.reason, { connection: 'close' })
    return false
  }

  function afterAccess(x: Exchange, route: EdgeRoute): void | Promise<void> {
    const body = readBody(x)
    if (body === null) return afterBody(x, route, null)
    return body.then((value) => (value === undefined ? undefined : afterBody(x, route, value)))
  }

  function afterBody(x: Exchange, route: EdgeRoute, body: Buffer | null): void | Promise<void> {
    const verdict = inspect(x, route, body, false)
    if (verdict === null) return
    if (isThenable(verdict)) {
      return verdict.then((v) => (v === null ? undefined : dispatch(x, route, body)))
    }
    return dispatch(x, route, body)
  }

  function dispatch(x: Exchange, route: EdgeRoute, body: Buffer | null): void | Promise<void> {
    const target = route.target
    if (target.kind === 'proxy')
      return proxy(
        x,
        route,
        balancer.pick(upstreamsOf(target)) ?? target.upstream,
        body,
        x.req.headers.host ?? x.host,
      )
    if (target.kind === 'static') return serveStatic(x, route, target.root)
    x.outcome = 'not_deployed'
    const req = x.req
    x.bytesOut = sendPage(
      x.res,
      503,
      NOT_DEPLOYED_PAGE,
      x.requestId,
      req.headers.accept,
      {},
      req.method === 'HEAD',
    )
  }

  /** Maintenance, IP allow list, Basic auth, throttling — in that order. Returns true when it answered. */
  function checkAccess(x: Exchange, compiled: CompiledRoute): boolean | Promise<boolean> {
    const route = compiled.route
    if (route.maintenance) {
      page(x, 503, 'maintenance', { 'retry-after': '120' })
      return true
    }
    if (compiled.allow && !compiled.allow.has(x.clientIp)) {
      page(x, 403, 'ip_denied')
      return true
    }
    const auth = route.access.basicAuth
    if (auth) return checkPassword(x, route, auth).then((done) => done || checkThrottle(x, route))
    return checkThrottle(x, route)
  }

  async function checkPassword(x: Exchange, route: EdgeRoute, auth: EdgeBasicAuth): Promise<boolean> {
    const given = parseBasicAuth(x.req.headers.authorization)
    const loginKey = `${route.environmentId}|${clientKey(x.clientIp)}`
    let ok: boolean | null = false
    if (given) {
      ok = await verifier.verify(auth, given, () => {
        const d = loginThrottle.take(loginKey, LOGIN_RATE, LOGIN_BURST)
        return isThenable(d) ? d.then((v) => v.allowed) : d.allowed
      })
    }
    if (ok === null) {
      page(x, 429, 'login_throttled', { 'retry-after': String(Math.ceil(1 / LOGIN_RATE)) })
      return true
    }
    if (!ok) {
      // A fixed realm: the environment id or workspace would tell a stranger what is behind the host.
      page(x, 401, 'auth_required', { 'www-authenticate': 'Basic realm="Palisade", charset="UTF-8"' })
      return true
    }
    return false
  }

  function checkThrottle(x: Exchange, route: EdgeRoute): boolean | Promise<boolean> {
    const { requestsPerSecond, burst } = route.throttle
    if (requestsPerSecond <= 0) return false
    const decision = throttle.take(
      `${route.environmentId}|${clientKey(x.clientIp)}`,
      requestsPerSecond,
      burst,
    )
    const apply = (d: ThrottleDecision): boolean => {
      if (d.allowed) return false
      page(x, 429, 'throttled', { 'retry-after': String(d.retryAfterSeconds) })
      return true
    }
    return isThenable(decision) ? decision.then(apply) : apply(decision)
  }

  /** Buffers the body up to the limit so the WAF sees all of it. undefined = already answered (413/400). */
  function readBody(x: Exchange): Promise<Buffer | null | undefined> | null {
    const req = x.req
    const lengthHeader = req.headers['content-length']
    // HTTP/2 needs neither header for a body: whether one follows is in the stream (END_STREAM).
    if (lengthHeader === undefined && req.headers['transfer-encoding'] === undefined && !http2HasBody(req))
      return null
    const max = opts.limits.maxBodyBytes
    if (lengthHeader !== undefined && Number(lengthHeader) > max) {
      x.res.shouldKeepAlive = false // the unread body would otherwise be parsed as the next request
      page(x, 413, 'body_too_large', { connection: 'close' })
      return Promise.resolve(undefined)
    }
    return new Promise((resolve) => {
      const chunks: Buffer[] = []
      let size = 0
      let done = false
      const finish = (value: Buffer | null | undefined): void => {
        if (done) return
        done = true
        req.off('data', onData)
        req.off('end', onEnd)
        req.off('error', onError)
        resolve(value)
      }
      const onData = (chunk: Buffer): void => {
        size += chunk.length
        if (size > max) {
          x.res.shouldKeepAlive = false
          page(x, 413, 'body_too_large', { connection: 'close' })
          req.resume()
          finish(undefined)
          return
        }
        chunks.push(chunk)
      }
      const onEnd = (): void =>
        // An HTTP/2 request that ended with an empty DATA frame has no body, as over HTTP/1.1.
        finish(
          size === 0 && lengthHeader === undefined
            ? null
            : chunks.length === 1
              ? chunks[0]
              : Buffer.concat(chunks, size),
        )
      const onError = (): void => {
        x.outcome = 'client_error'
        finish(undefined)
      }
      req.on('data', onData)
      req.on('end', onEnd)
      req.on('error', onError)
    })
  }

  /** Always runs the WAF hook. Returns null when the request was answered (blocked or the WAF failed). */
  function inspect(
    x: Exchange,
    route: EdgeRoute,
    body: Buffer | null,
    upgrade: boolean,
  ): Verdict | null | Promise<Verdict | null> {
    const req = x.req
    const inspected: InspectedRequest = new ExchangeInspection(x, body, upgrade)
    // Fail closed: a request the WAF could not judge is not passed on.
    const failed = (error: unknown): null => {
      logger?.error({ requestId: x.requestId, err: error }, 'waf inspector failed')
      x.outcome = 'waf_error'
      x.bytesOut = sendPage(x.res, 503, WAF_UNAVAILABLE_PAGE, x.requestId, req.headers.accept)
      return null
    }
    let verdict: Verdict | Promise<Verdict>
    try {
      verdict = inspector(inspected, route)
    } catch (error) {
      return failed(error)
    }
    if (isThenable(verdict)) return verdict.then((v) => applyVerdict(x, route, inspected, v), failed)
    return applyVerdict(x, route, inspected, verdict)
  }

  function applyVerdict(
    x: Exchange,
    route: EdgeRoute,
    inspected: InspectedRequest,
    verdict: Verdict,
  ): Verdict | null {
    const req = x.req
    const ruleIds = verdict.ruleIds ?? NO_RULES
    x.ruleIds = ruleIds
    if (verdict.action === 'block' || ruleIds.length > 0) {
      const status = verdict.action === 'block' ? verdict.status : 0
      try {
        deps.onWafEvent?.({
          at: new Date(now()).toISOString(),
          requestId: x.requestId,
          environmentId: route.environmentId,
          workspaceId: route.workspaceId,
          clientIp: x.clientIp,
          method: inspected.method,
          host: inspected.host,
          path: maskUrl(inspected.uri, deps.secretValues?.(route.environmentId)),
          action: verdict.action,
          status,
          ruleIds,
          score: verdict.score ?? 0,
          matches: verdict.matches ?? [],
        })
      } catch {
        // storing the event must not change the decision
      }
    }
    if (verdict.action === 'block') {
      x.outcome = 'waf_block'
      const status = verdict.status >= 400 && verdict.status <= 599 ? verdict.status : 403
      x.bytesOut = sendPage(x.res, status, WAF_BLOCK_PAGE, x.requestId, req.headers.accept)
      return null
    }
    return verdict
  }

  function upstreamHeaders(x: Exchange, route: EdgeRoute, hostHeader: string, upgrade: boolean): string[] {
    const req = x.req
    const headers = forwardRequestHeaders(req.rawHeaders, x.trusted, upgrade)
    if (route.access.basicAuth) {
      // The edge's own password is not the application's business.
      for (let i = headers.length - 2; i >= 0; i -= 2) {
        if ((headers[i] as string).toLowerCase() === 'authorization') headers.splice(i, 2)
      }
    }
    const peer = x.peer
    const prior = x.trusted ? req.headers['x-forwarded-for'] : undefined
    const givenProto = x.trusted ? req.headers['x-forwarded-proto'] : undefined
    headers.push(
      'X-Forwarded-For',
      typeof prior === 'string' && prior !== '' ? `${prior}, ${peer}` : peer,
      'X-Request-Id',
      x.requestId,
    )
    if (givenProto === undefined) headers.push('X-Forwarded-Proto', x.tls ? 'https' : 'http')
    if (!x.trusted || req.headers['x-forwarded-host'] === undefined)
      headers.push('X-Forwarded-Host', hostHeader)
    return headers
  }

  function proxy(
    x: Exchange,
    route: EdgeRoute,
    upstream: EdgeUpstream,
    body: Buffer | null,
    hostHeader: string,
  ): void {
    const headers = upstreamHeaders(x, route, hostHeader, false)
    if (body !== null) headers.push('Content-Length', String(body.length))
    send(x, route, upstream, headers, body, 1, true)
  }

  /**
   * Where a failed attempt may be sent again, or null. Only when the upstream surely did not act on it:
   * a refused connection (nothing sent), or an idempotent request on a pooled connection the upstream closed
   * as idle. A retry goes to the environment's *current* target, so requests caught by a deploy's drain of
   * the old release land on the new one.
   */
  function retryTarget(
    x: Exchange,
    route: EdgeRoute,
    failed: EdgeUpstream,
    code: string | undefined,
    reused: boolean,
  ): { upstream: EdgeUpstream; pooled: boolean } | null {
    const current = routes.lookupCompiled(x.host)?.route
    const candidates =
      current && current.environmentId === route.environmentId && current.target.kind === 'proxy'
        ? upstreamsOf(current.target)
        : [failed]
    const failedKey = upstreamKey(failed)
    const refused = code === 'ECONNREFUSED' || code === 'ENOENT'
    const reset = code === 'ECONNRESET' || code === 'EPIPE'
    // A fresh connection that failed: that instance is down (crashed, restarting, stopped) for now.
    if (!reused && (refused || reset)) balancer.markDown(failedKey)
    ;(x.tried ??= new Set()).add(failedKey)
    const other = balancer.pick(candidates, x.tried)
    // Nothing was sent: any other instance (or the new release after a switch) may take it.
    if (refused && !reused) return other ? { upstream: other, pooled: true } : null
    if (reset && IDEMPOTENT.has(x.req.method ?? '')) {
      if (other) return { upstream: other, pooled: true }
      // Same upstream: use a fresh connection, the other pooled ones may be just as stale.
      if (reused) return { upstream: failed, pooled: false }
    }
    return null
  }

  function send(
    x: Exchange,
    route: EdgeRoute,
    upstream: EdgeUpstream,
    headers: string[],
    body: Buffer | null,
    attempt: number,
    pooled: boolean,
  ): void {
    const { req, res } = x
    const key = upstreamKey(upstream)
    const agent = pooled ? pools.acquire(key) : false
    let released = false
    const release = (): void => {
      if (released) return
      released = true
      if (agent) pools.release(key, agent)
    }
    let preq: ClientRequest
    try {
      // One object literal of a fixed shape per request (an object spread is a slow generic copy).
      preq = httpRequest(
        'socketPath' in upstream
          ? {
              socketPath: upstream.socketPath,
              agent,
              method: req.method ?? 'GET',
              path: req.url ?? '/',
              headers,
              setHost: false,
              timeout: opts.limits.upstreamTimeoutMs,
            }
          : {
              host: upstream.host,
              port: upstream.port,
              agent,
              method: req.method ?? 'GET',
              path: req.url ?? '/',
              headers,
              setHost: false,
              timeout: opts.limits.upstreamTimeoutMs,
            },
      )
    } catch (error) {
      release()
      logger?.warn({ requestId: x.requestId, err: error }, 'upstream request rejected')
      return page(x, 502, 'upstream_error')
    }
    let timedOut = false
    let gotResponse = false
    x.upstream = preq
    preq.on('timeout', () => {
      timedOut = true
      preq.destroy()
    })
    preq.on('error', (error: NodeJS.ErrnoException) => {
      release()
      x.upstream = null
      if (res.destroyed) return
      if (gotResponse) {
        x.outcome = 'upstream_aborted'
        res.destroy()
        return
      }
      if (timedOut) return page(x, 504, 'upstream_timeout')
      const retry = attempt < 4 ? retryTarget(x, route, upstream, error.code, preq.reusedSocket) : null
      if (retry) return send(x, route, retry.upstream, headers, body, attempt + 1, retry.pooled)
      logger?.warn({ requestId: x.requestId, code: error.code, attempt }, 'upstream error')
      page(x, 502, 'upstream_error')
    })
    preq.on('response', (pres: IncomingMessage) => {
      gotResponse = true
      balancer.markUp(key)
      const out = forwardResponseHeaders(pres.rawHeaders)
      out.push('X-Request-Id', x.requestId)
      if (x.tls && route.hsts) out.push('Strict-Transport-Security', 'max-age=31536000')
      res.writeHead(pres.statusCode ?? 502, out)
      const resume = (): void => {
        pres.resume()
      }
      pres.on('data', (chunk: Buffer) => {
        x.bytesOut += chunk.length
        if (!res.write(chunk)) {
          pres.pause()
          res.once('drain', resume)
        }
      })
      pres.once('end', () => {
        release()
        res.end()
      })
      pres.once('error', () => {
        release()
        res.destroy()
      })
      pres.once('close', release)
    })
    preq.end(body ?? undefined)
  }

  function serveStatic(x: Exchange, route: EdgeRoute, root: string): Promise<void> {
    const { req, res } = x
    const method = req.method ?? 'GET'
    if (method !== 'GET' && method !== 'HEAD') {
      page(x, 405, 'method_not_allowed', { allow: 'GET, HEAD' })
      return Promise.resolve()
    }
    return resolveStatic(root, req.url ?? '/').then((found) => {
      if (res.destroyed) return
      if (found.kind === 'bad_request') return page(x, 400, 'bad_path')
      if (found.kind === 'not_found') {
        x.outcome = 'static_not_found'
        x.bytesOut = sendPage(
          res,
          404,
          { title: 'Not found', code: 'PAL_EDGE_FILE_NOT_FOUND', message: 'No such file.' },
          x.requestId,
          req.headers.accept,
          {},
          method === 'HEAD',
        )
        return
      }
      const headers: Record<string, string> = {
        'content-type': contentTypeFor(found.path),
        'content-length': String(found.size),
        'last-modified': found.mtime.toUTCString(),
        'x-content-type-options': 'nosniff',
        'x-request-id': x.requestId,
      }
      if (x.tls && route.hsts) headers['strict-transport-security'] = 'max-age=31536000'
      res.writeHead(200, headers)
      if (method === 'HEAD') {
        res.end()
        return
      }
      x.bytesOut = found.size
      const stream = openStatic(found.path)
      stream.on('error', () => res.destroy())
      stream.pipe(res)
    })
  }

  /** WebSocket: the same checks as a request (the upgrade request goes through the WAF), then a two-way pipe. */
  async function handleUpgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    tls: boolean,
  ): Promise<void> {
    const res = new ServerResponseOnSocket(req, socket)
    socket.on('error', () => socket.destroy())
    const x = newExchange(req, res as unknown as ServerResponse, tls)
    socket.once('close', () => writeAccessLog(x))
    // Threat: `Upgrade: h2c` (or any non-WebSocket protocol) would let a client tunnel past the edge's
    // per-request checks; only WebSocket is upgraded.
    if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') return page(x, 400, 'bad_upgrade')
    if (!acceptTarget(x)) return
    const host = x.host
    const compiled = host === '' ? undefined : routes.lookupCompiled(host)
    if (!compiled) return page(x, 404, 'unknown_host')
    const route = compiled.route
    x.route = route
    if (tls) {
      const servername = (req.socket as TLSSocket).servername
      if (typeof servername === 'string' && normalizeHost(servername) !== host)
        return page(x, 421, 'misdirected')
    }
    if (!tls && route.httpsRedirect) return page(x, 403, 'https_required')
    if (await checkAccess(x, compiled)) return
    const verdict = await inspect(x, route, null, true)
    if (verdict === null) return
    if (route.target.kind !== 'proxy') return page(x, 404, 'no_websocket_target')
    const upstream = balancer.pick(upstreamsOf(route.target)) ?? route.target.upstream
    const headers = upstreamHeaders(x, route, req.headers.host ?? host, true)
    const preq = httpRequest({
      ...('socketPath' in upstream ? { socketPath: upstream.socketPath } : upstream),
      method: 'GET',
      path: req.url ?? '/',
      headers,
      setHost: false,
      timeout: opts.limits.upstreamTimeoutMs,
    })
    preq.on('timeout', () => preq.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })))
    preq.on('error', (error: NodeJS.ErrnoException) => {
      if (socket.destroyed) return
      if (error.code === 'ETIMEDOUT') page(x, 504, 'upstream_timeout')
      else page(x, 502, 'upstream_error')
    })
    preq.on('response', (pres) => {
      // The upstream refused the upgrade: relay its answer as a plain response.
      const out = forwardResponseHeaders(pres.rawHeaders)
      let head = `HTTP/1.1 ${pres.statusCode ?? 502} ${pres.statusMessage ?? ''}\r\n`
      for (let i = 0; i < out.length; i += 2) head += `${out[i]}: ${out[i + 1]}\r\n`
      socket.write(`${head}X-Request-Id: ${x.requestId}\r\nConnection: close\r\n\r\n`)
      x.res.statusCode = pres.statusCode ?? 502
      pres.pipe(socket)
    })
    preq.on('upgrade', (pres, upstreamSocket, upstreamHead) => {
      upstreamSocket.setTimeout(0)
      const out = forwardResponseHeaders(pres.rawHeaders)
      let head = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`
      for (let i = 0; i < out.length; i += 2) head += `${out[i]}: ${out[i + 1]}\r\n`
      socket.write(`${head}X-Request-Id: ${x.requestId}\r\n\r\n`)
      x.res.statusCode = 101
      x.outcome = 'websocket'
      if (upstreamHead.length > 0) socket.write(upstreamHead)
      upstreamSocket.on('error', () => socket.destroy())
      socket.on('error', () => upstreamSocket.destroy())
      upstreamSocket.on('close', () => socket.destroy())
      socket.on('close', () => upstreamSocket.destroy())
      upstreamSocket.pipe(socket)
      socket.pipe(upstreamSocket)
    })
    if (head.length > 0) socket.unshift(head)
    preq.end()
  }

  async function contextFor(host: string): Promise<SecureContext> {
    const cached = secureContexts.get(host)
    // The same window as the CA's renewal: a context is not served from the cache once its leaf is due.
    if (cached && cached.notAfter - now() > RENEW_BEFORE_MS) return cached.ctx
    let pair: CertificatePair | undefined
    if (acme && !host.endsWith(`.${opts.baseDomain}`) && host !== opts.baseDomain)
      pair = await acme.stored(host, now())
    pair ??= await (ca ?? (await openCa())).certificateFor(host)
    const ctx = createSecureContext({ key: pair.key, cert: pair.cert })
    secureContexts.set(host, { ctx, notAfter: pair.notAfter.getTime() })
    return ctx
  }

  const serverOptions = {
    maxHeaderSize: opts.limits.maxHeaderBytes,
    requestTimeout: opts.limits.requestTimeoutMs,
    headersTimeout: opts.limits.headerTimeoutMs,
    // Node closes an idle keep-alive socket 1 s after keepAliveTimeout (a buffer for clients that race the
    // advertised timeout): subtracting it keeps the configured idle timeout to the second.
    keepAliveTimeout:
      opts.limits.idleTimeoutMs > 1_000 ? opts.limits.idleTimeoutMs - 1_000 : opts.limits.idleTimeoutMs,
    // Node checks the header and request timeouts only this often (default 30 s, which let a slowloris
    // client hold a connection for 20–50 s instead of 20 s): at most a second, or a quarter of the shortest.
    connectionsCheckingInterval: Math.max(
      50,
      Math.min(1_000, Math.floor(Math.min(opts.limits.headerTimeoutMs, opts.limits.requestTimeoutMs) / 4)),
    ),
    // A missing Host is answered by the edge in its own error format (Node would answer a bare 400).
    requireHostHeader: false,
  }

  const onRequest =
    (tls: boolean) =>
    (req: IncomingMessage, res: ServerResponse): void => {
      if (refused.has(req.socket)) {
        req.socket.destroy()
        return
      }
      adaptHttp2Request(req)
      const failed = (error: unknown): void => {
        logger?.error({ err: error }, 'edge request failed')
        if (!res.headersSent) {
          // the documented error format, with only a code and a request id (no internals)
          const requestId = randomUUID()
          const body = JSON.stringify({
            error: { code: 'PAL_EDGE_INTERNAL', message: 'internal error', requestId },
          })
          res.writeHead(500, {
            'content-type': 'application/json; charset=utf-8',
            'content-length': String(Buffer.byteLength(body)),
            'x-request-id': requestId,
            connection: 'close',
          })
          res.end(body)
        } else res.destroy()
      }
      try {
        const pending = handle(req, res, tls)
        if (pending) pending.catch(failed)
      } catch (error) {
        failed(error)
      }
    }
  const onUpgrade =
    (tls: boolean) =>
    (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
      if (refused.has(req.socket)) {
        socket.destroy()
        return
      }
      handleUpgrade(req, socket, head, tls).catch((error: unknown) => {
        logger?.error({ err: error }, 'edge upgrade failed')
        socket.destroy()
      })
    }

  const httpServer: Server = createHttpServer(serverOptions, onRequest(false))
  httpServer.on('upgrade', onUpgrade(false))
  // HTTP/2 and HTTP/1.1 on one TLS listener (ALPN): the compatibility API hands both to the same pipeline
  // (`adaptHttp2Request` fills in Host); HTTP/1.1 clients, WebSocket upgrades included, keep Node's
  // HTTP/1.1 server with the limits below.
  const httpsServer = createSecureServer(
    {
      allowHTTP1: true,
      settings: {
        maxConcurrentStreams: HTTP2_LIMITS.maxConcurrentStreams,
        maxHeaderListSize: opts.limits.maxHeaderBytes,
        enablePush: false,
      },
      maxSessionMemory: HTTP2_LIMITS.maxSessionMemoryMb,
      maxHeaderListPairs: HTTP2_LIMITS.maxHeaderListPairs,
      maxSessionRejectedStreams: HTTP2_LIMITS.maxSessionRejectedStreams,
      maxSessionInvalidFrames: HTTP2_LIMITS.maxSessionInvalidFrames,
      minVersion: 'TLSv1.2',
      // Only hosts in the route table get a certificate: an unknown name fails the handshake, so nobody
      // can make the edge mint (and store) certificates for arbitrary names.
      SNICallback: (servername, cb) => {
        const host = normalizeHost(servername)
        if (host === '' || !routes.lookupCompiled(host)) {
          cb(new Error('unknown server name'), undefined)
          return
        }
        contextFor(host).then(
          (ctx) => cb(null, ctx),
          (error: unknown) => {
            logger?.error({ err: error, host }, 'certificate issuance failed')
            cb(error as Error, undefined)
          },
        )
      },
    },
    onRequest(true) as unknown as Parameters<typeof createSecureServer>[1],
  )
  // The HTTP/1.1 fallback reads these from the server object (createSecureServer takes no HTTP/1 options).
  Object.assign(httpsServer, serverOptions)
  // An HTTP/2 session idle this long is closed, like an idle HTTP/1.1 keep-alive connection.
  httpsServer.setTimeout(opts.limits.idleTimeoutMs)
  httpsServer.on('session', (session: ServerHttp2Session) =>
    guardAgainstRapidReset(session, () =>
      logger?.warn(
        { remoteAddress: session.socket.remoteAddress },
        'HTTP/2 session closed: its client cancels streams as fast as it opens them (rapid reset)',
      ),
    ),
  )
  // Closing must end open connections too (the HTTP/2 server has no closeAllConnections).
  const tlsSockets = new Set<Socket>()
  httpsServer.on('connection', (socket: Socket) => {
    tlsSockets.add(socket)
    socket.once('close', () => tlsSockets.delete(socket))
  })
  httpsServer.on('upgrade', onUpgrade(true))
  for (const [server, tls] of [
    [httpServer, false],
    [httpsServer, true],
  ] as const) {
    server.on('clientError', (error: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Duplex) =>
      answerClientError(error, socket as Socket, tls),
    )
    server.prependListener('connection', (socket: Socket) => limitConnections(socket, tls))
  }

  /**
   * Parser and server failures (bad bytes, a head over the limit, a header timeout) in the documented error
   * format with a request id, and one access-log line: Node's default answers are bare and unlogged.
   */
  function answerClientError(
    error: NodeJS.ErrnoException & { rawPacket?: Buffer },
    socket: Socket,
    tls: boolean,
  ): void {
    if (!socket.writable || error.code === 'ECONNRESET') {
      socket.destroy()
      return
    }
    let status: 400 | 408 | 414 | 431 = 400
    let outcome = 'bad_request'
    if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      status = 408
      outcome = 'request_timeout'
    } else if (error.code === 'HPE_HEADER_OVERFLOW') {
      status = isLongRequestLine(error.rawPacket, opts.limits.maxUrlBytes) ? 414 : 431
      outcome = status === 414 ? 'uri_too_long' : 'headers_too_large'
    }
    const requestId = randomUUID()
    socket.end(rawErrorResponse(status, PAGES[status], requestId))
    logRefusal(socket, tls, requestId, status, outcome)
  }

  /** A client may hold at most `maxConnectionsPerClient` connections per listener (connection exhaustion). */
  const openConnections = new Map<string, number>()
  /** Sockets answered 429 at connect: anything the parser still reads from them is dropped, never served. */
  const refused = new WeakSet<object>()
  function limitConnections(socket: Socket, tls: boolean): void {
    const cap = opts.limits.maxConnectionsPerClient
    const peer = plainAddress(socket.remoteAddress)
    if (cap <= 0 || peer === '' || isTrusted(peer)) return
    const key = `${tls ? 's' : 'h'}|${clientKey(peer)}`
    const open = openConnections.get(key) ?? 0
    if (open >= cap) {
      const requestId = randomUUID()
      refused.add(socket)
      socket.on('error', () => socket.destroy())
      if (tls) socket.destroy()
      else {
        socket.end(rawErrorResponse(429, TOO_MANY_CONNECTIONS_PAGE, requestId, { 'Retry-After': '1' }))
        // whatever the client sends meanwhile is not read: the socket goes as soon as the answer is out
        socket.once('finish', () => socket.destroy())
      }
      logRefusal(socket, tls, requestId, 429, 'too_many_connections')
      return
    }
    openConnections.set(key, open + 1)
    socket.once('close', () => {
      const left = (openConnections.get(key) ?? 1) - 1
      if (left <= 0) openConnections.delete(key)
      else openConnections.set(key, left)
    })
  }

  function logRefusal(
    socket: Socket,
    tls: boolean,
    requestId: string,
    status: number,
    outcome: string,
  ): void {
    const entry: AccessLogEntry = {
      requestId,
      environmentId: null,
      workspaceId: null,
      clientIp: plainAddress(socket.remoteAddress),
      method: '',
      host: '',
      path: '',
      protocol: tls ? 'https' : 'http',
      status,
      bytesOut: 0,
      durationMs: 0,
      outcome,
      userAgent: null,
      referer: null,
      authorization: null,
      cookie: null,
    }
    try {
      accessLogger?.info(entry, 'edge request')
      deps.onAccessLog?.(entry)
    } catch {
      // a failing log sink must not take traffic down
    }
  }

  function listenOn(server: NetServer, addr: { host: string; port: number }): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      server.once('error', reject)
      server.listen(addr.port, addr.host, () => {
        server.off('error', reject)
        resolve(server.address() as AddressInfo)
      })
    })
  }

  return {
    routes,
    get ca(): LocalCa {
      if (!ca) throw new InternalError('PAL_EDGE_CA_NOT_OPEN', 'the local CA opens when the edge listens')
      return ca
    },
    challenges,
    acme,
    forgetCertificate(host) {
      secureContexts.delete(host)
    },
    async renewCertificates(aheadMs = 0) {
      const renewed: string[] = []
      for (const host of await leavesDue(edgePaths(opts.dataDir).certsDir, now() + Math.max(0, aheadMs))) {
        // Hosts that left the route table keep their old file: nobody is served with it.
        if (!routes.lookupCompiled(host)) continue
        try {
          const pair = await (ca ?? (await openCa())).renew(host)
          secureContexts.set(host, {
            ctx: createSecureContext({ key: pair.key, cert: pair.cert }),
            notAfter: pair.notAfter.getTime(),
          })
          renewed.push(host)
        } catch (err) {
          logger?.warn({ err, host }, 'certificate renewal failed')
        }
      }
      if (renewed.length > 0) logger?.info({ hosts: renewed }, 'certificates renewed')
      return renewed
    },
    async listen() {
      await openCa()
      const http = await listenOn(httpServer, httpAddr)
      const https = await listenOn(httpsServer, httpsAddr)
      if (opts.publicHttpsPort === undefined) publicHttpsPort = https.port
      return { http, https }
    },
    async close() {
      const closing = [
        new Promise<void>((resolve) => {
          if (!httpServer.listening) return resolve()
          httpServer.close(() => resolve())
          httpServer.closeAllConnections()
        }),
        new Promise<void>((resolve) => {
          if (!httpsServer.listening) return resolve()
          httpsServer.close(() => resolve())
          for (const socket of tlsSockets) socket.destroy()
        }),
      ]
      pools.closeAll()
      await Promise.all(closing)
      accessLine?.flush()
    },
  }
}

/**
 * Whether a head that overflowed the limit did so in its request line (→ 414) rather than in its headers
 * (→ 431): the packet the parser choked on starts with a method and its first line is over `maxUrlBytes`.
 * A line split over several reads is seen from its last piece only, and then counts as headers.
 */
function isLongRequestLine(raw: Buffer | undefined, maxUrlBytes: number): boolean {
  if (!raw || !/^[A-Z]{1,16} [^ ]/.test(raw.subarray(0, 20).toString('latin1'))) return false
  const end = raw.indexOf('\n')
  return (end === -1 ? raw.length : end) > maxUrlBytes
}

/** Just enough of a ServerResponse to render edge pages on a raw upgrade socket. */
class ServerResponseOnSocket {
  statusCode = 0
  headersSent = false
  writableFinished = false
  readonly #socket: Duplex
  constructor(_req: IncomingMessage, socket: Duplex) {
    this.#socket = socket
  }
  get destroyed(): boolean {
    return this.#socket.destroyed
  }
  writeHead(status: number, headers: Record<string, string>): this {
    this.statusCode = status
    this.headersSent = true
    let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`
    for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`
    this.#socket.write(`${head}connection: close\r\n\r\n`)
    return this
  }
  end(body?: string): void {
    this.writableFinished = true
    this.#socket.end(body)
  }
  destroy(): void {
    this.#socket.destroy()
  }
}

/**
 * What the WAF hook sees of a request. The header pairs and the socket's ports are read only when the
 * inspector asks for them: an inspector that does not (the allow-all hook) costs no copy per request.
 */
class ExchangeInspection implements InspectedRequest {
  readonly requestId: string
  readonly clientIp: string
  readonly tls: boolean
  readonly method: string
  readonly uri: string
  readonly httpVersion: string
  readonly host: string
  readonly body: Buffer | null
  readonly upgrade: boolean
  readonly #req: IncomingMessage
  #headers: (readonly [string, string])[] | null = null
  constructor(x: Exchange, body: Buffer | null, upgrade: boolean) {
    const req = x.req
    this.#req = req
    this.requestId = x.requestId
    this.clientIp = x.clientIp
    this.tls = x.tls
    this.method = req.method ?? 'GET'
    this.uri = req.url ?? '/'
    this.httpVersion = req.httpVersion
    this.host = x.host
    this.body = body
    this.upgrade = upgrade
  }
  get clientPort(): number {
    return this.#req.socket.remotePort ?? 0
  }
  get serverPort(): number {
    return this.#req.socket.localPort ?? 0
  }
  get headers(): readonly (readonly [string, string])[] {
    if (this.#headers === null) {
      const raw = this.#req.rawHeaders
      const headers: (readonly [string, string])[] = []
      for (let i = 0; i < raw.length; i += 2) headers.push([raw[i] as string, raw[i + 1] as string])
      this.#headers = headers
    }
    return this.#headers
  }
}
