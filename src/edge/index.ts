/**
 * The edge gateway: host routing, TLS with a local CA (and ACME for custom domains), maintenance, IP allow
 * lists, Basic auth, throttling, the always-on WAF hook, and a keep-alive reverse proxy.
 *
 * Order per request: route lookup → HTTP→HTTPS redirect → maintenance (503) → IP allow (403) → Basic auth (401)
 * → throttle (429) → body buffered up to the limit (413) → WAF hook (403 with the request id) → target.
 *
 * @example
 * ```ts
 * const edge = await createEdge(config.edge, { inspector: createWafInspector(() => waf), logger })
 * edge.routes.upsert({ environmentId: 'env_1', workspaceId: 'ws_1', hosts: ['main.shop.acme.localhost'],
 *   target: { kind: 'proxy', upstream: { host: '127.0.0.1', port: 3000 } }, maintenance: false,
 *   access: { ipAllow: [], basicAuth: null }, throttle: { requestsPerSecond: 50, burst: 100 },
 *   waf: {}, httpsRedirect: false, hsts: false })
 * const { http, https } = await edge.listen()
 * ```
 */
export { createEdge, type Edge } from './edge.js'
export { RouteTable, normalizeHost } from './route-table.js'
// LocalCa is loaded on demand by the edge (see edge.ts); import it from './local-ca.js' directly.
export type { CertificatePair } from './local-ca.js'
export { edgePaths, moveLegacyEdgeFiles, type EdgePaths, type LegacyEdgeMove } from './edge-paths.js'
export { AcmeChallengeStore, AcmeIssuer, ACME_CHALLENGE_PREFIX } from './acme.js'
export { MemoryThrottle, clientKey } from './throttle.js'
export { compileAllowList } from './ip-allow.js'
export { createWafInspector, inspectWithWaf } from './waf-inspector.js'
export { decideTraffic, type TrafficDecision, type TrafficRequest } from './decide.js'
export { createFsWafSource, createWafCache } from './waf-rules.js'
export {
  maskUrl,
  maskAuthorization,
  maskCookie,
  maskForm,
  maskValues,
  isSecretName,
  isTokenLike,
} from './mask.js'
export {
  EdgeMetrics,
  mergeEdgeSnapshots,
  LATENCY_BUCKETS,
  METHOD_CLASSES,
  STATUS_CLASSES,
  THROTTLE_KINDS,
  UPSTREAM_FAILURES,
  WAF_ACTIONS,
  type EdgeSnapshot,
  type EnvCounters,
} from './edge-metrics.js'
export { EdgeConfigError, EDGE_ERROR_CODES, type EdgeErrorCode } from './errors.js'
export { accessLineEnvironment, decodeAccessLine, encodeAccessLine, type AccessLine } from './access-line.js'
export { ACCESS_RING_BYTES, AccessLineRing } from './access-line-ring.js'
export type {
  AccessLogEntry,
  EdgeAcmeOptions,
  EdgeBasicAuth,
  EdgeDeps,
  EdgeLimits,
  EdgeLogger,
  EdgeOptions,
  EdgeRoute,
  EdgeTarget,
  EdgeUpstream,
  InspectedRequest,
  Inspector,
  Throttle,
  ThrottleDecision,
  Verdict,
  WafEvent,
  WafMatch,
} from './types.js'

/** Defaults for the edge's limits (the config schema may override them). */
export const EDGE_DEFAULT_LIMITS = Object.freeze({
  maxHeaderBytes: 16 * 1024, // 16 KiB, like nginx's large_client_header_buffers; more is usually an attack
  maxBodyBytes: 10 * 1024 * 1024, // 10 MiB; the whole body is buffered for the WAF, so this bounds memory per request
  upstreamTimeoutMs: 60_000, // 60 s of upstream silence → 504
  idleTimeoutMs: 5_000, // 5 s idle keep-alive
  headerTimeoutMs: 20_000, // 20 s for the request head (slowloris)
  requestTimeoutMs: 120_000, // 120 s for a whole request including its body (slow POST)
  maxUrlBytes: 8 * 1024, // 8 KiB request target, like nginx's default buffer for the request line
  maxConnectionsPerClient: 128, // per client address: browsers open ~6 per host; 128 leaves room for NAT
})
export { createControlLink, type ControlLink } from './workers/control-link.js'
export { runSupervisor, type SupervisorOptions } from './workers/supervisor.js'
export { runEdgeWorker } from './workers/worker.js'
export { createEventBatcher, type EventBatcher } from './workers/event-batcher.js'
export type { EdgeWorkersStatus, EdgeWorkerStatus } from './workers/protocol.js'
export { WAF_MEMORY_BUDGET_UNITS } from './waf-rules.js'
