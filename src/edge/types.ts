/** Where the edge sends an environment's traffic. Swapped as one reference on deploy. */
export type EdgeTarget =
  | {
      readonly kind: 'proxy'
      /** The first instance (the only one of a single-instance environment). */
      readonly upstream: EdgeUpstream
      /** Every healthy instance, `upstream` among them; requests are balanced over them (src/edge/balancer.ts). */
      readonly upstreams?: readonly EdgeUpstream[]
    }
  | { readonly kind: 'static'; readonly root: string }
  | { readonly kind: 'none' }

export type EdgeUpstream = { readonly socketPath: string } | { readonly host: string; readonly port: number }

export interface EdgeBasicAuth {
  readonly username: string
  /** argon2id encoded hash (`$argon2id$...`). */
  readonly passwordHash: string
}

export interface EdgeRoute {
  readonly environmentId: string
  readonly workspaceId: string
  /** Default host name and custom domains, lowercase, without port. */
  readonly hosts: readonly string[]
  readonly target: EdgeTarget
  readonly maintenance: boolean
  readonly access: {
    /** CIDRs or single addresses, already merged with the workspace ip-groups. Empty = everyone. */
    readonly ipAllow: readonly string[]
    readonly basicAuth: EdgeBasicAuth | null
  }
  /** requestsPerSecond 0 turns throttling off for the environment. */
  readonly throttle: { readonly requestsPerSecond: number; readonly burst: number }
  /** Opaque WAF settings (paranoia, exclusions) handed to the inspector untouched. */
  readonly waf: unknown
  readonly httpsRedirect: boolean
  readonly hsts: boolean
}

/** What the WAF hook sees of a request. Header names keep the client's spelling and order. */
export interface InspectedRequest {
  readonly requestId: string
  readonly clientIp: string
  readonly clientPort: number
  readonly serverPort: number
  readonly tls: boolean
  readonly method: string
  /** Raw request target as sent (path and query, not decoded). */
  readonly uri: string
  readonly httpVersion: string
  readonly host: string
  /** [name, value] pairs in the order received. */
  readonly headers: readonly (readonly [string, string])[]
  /** The whole request body (at most limits.maxBodyBytes), or null when there was none. */
  readonly body: Buffer | null
  /** True for a WebSocket upgrade request (its frames are not inspected). */
  readonly upgrade: boolean
}

/** One matched rule as the WAF reports it; `data` is already truncated and secret-masked by the engine. */
export interface WafMatch {
  readonly id: string
  readonly msg: string
  readonly data: string
}

/** Optional detail a WAF adds to its decision, for the environment's WAF event log. */
interface VerdictDetail {
  readonly score?: number
  readonly matches?: readonly WafMatch[]
}

export type Verdict =
  | ({ readonly action: 'allow'; readonly ruleIds?: readonly string[] } & VerdictDetail)
  | ({
      readonly action: 'block'
      readonly status: number
      readonly ruleIds: readonly string[]
    } & VerdictDetail)

export type Inspector = (request: InspectedRequest, route: EdgeRoute) => Promise<Verdict> | Verdict

/** One WAF decision worth storing (a block, or an allow that matched detection-only rules). */
export interface WafEvent {
  readonly at: string
  readonly requestId: string
  readonly environmentId: string
  readonly workspaceId: string
  readonly clientIp: string
  readonly method: string
  readonly host: string
  /** Path and query with secret parameters masked. */
  readonly path: string
  readonly action: 'allow' | 'block'
  readonly status: number
  readonly ruleIds: readonly string[]
  /** Inbound anomaly score, when the WAF reports one. */
  readonly score: number
  readonly matches: readonly WafMatch[]
}

/** One access-log line. Secrets are already masked. */
export interface AccessLogEntry {
  readonly requestId: string
  readonly environmentId: string | null
  readonly workspaceId: string | null
  readonly clientIp: string
  readonly method: string
  readonly host: string
  readonly path: string
  readonly protocol: 'http' | 'https'
  readonly status: number
  readonly bytesOut: number
  readonly durationMs: number
  /** Why the edge answered itself (`waf_block`, `throttled`, ...), or null when the target answered. */
  readonly outcome: string | null
  readonly userAgent: string | null
  readonly referer: string | null
  readonly authorization: string | null
  readonly cookie: string | null
  readonly ruleIds?: readonly string[]
}

/** Pino-compatible subset. */
export interface EdgeLogger {
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
}

export interface ThrottleDecision {
  readonly allowed: boolean
  /** Whole seconds until a token is available (for Retry-After), when not allowed. */
  readonly retryAfterSeconds: number
}

/** Shared counter for throttling; in-process by default, Redis-backed when the control plane passes one. */
export interface Throttle {
  take(key: string, requestsPerSecond: number, burst: number): ThrottleDecision | Promise<ThrottleDecision>
}

export interface EdgeLimits {
  /** Largest request head (request line + headers), bytes. Over it → 431. */
  readonly maxHeaderBytes: number
  /** Largest request body, bytes. Over it → 413. */
  readonly maxBodyBytes: number
  /** Upstream silent for this long → 504, ms. */
  readonly upstreamTimeoutMs: number
  /** Idle client keep-alive connections are closed after this, ms. */
  readonly idleTimeoutMs: number
  /** Whole request head must arrive within this (slowloris), ms. */
  readonly headerTimeoutMs: number
  /** Whole request incl. body must arrive within this, ms. */
  readonly requestTimeoutMs: number
  /** Longest request target (path and query), bytes. Over it → 414. */
  readonly maxUrlBytes: number
  /**
   * Open connections per client address (IPv6 by /64) on each listener; one more is refused (429 on HTTP,
   * a closed socket on HTTPS). Trusted proxies are exempt. 0 turns the cap off.
   */
  readonly maxConnectionsPerClient: number
}

export interface EdgeAcmeOptions {
  readonly directoryUrl: string
  /** Contact e-mail of the ACME account. */
  readonly email?: string | undefined
  /** PEM of the CA that signs the directory's HTTPS certificate (a test CA); absent: the system's roots. */
  readonly caPem?: string | undefined
}

export interface EdgeOptions {
  readonly httpListen: string
  readonly httpsListen: string
  /** Palisade's data dir: the edge keeps its CA, leaves and ACME certificates under `<dataDir>/edge/`. */
  readonly dataDir: string
  readonly baseDomain: string
  readonly limits: EdgeLimits
  /**
   * Whom to believe about the client's address. false: nobody (X-Forwarded-For from clients is
   * replaced). true: the directly connected peer (one proxy hop in front). A list of CIDRs: peers in it.
   */
  readonly trustProxy: boolean | readonly string[]
  /** Port used in HTTP→HTTPS redirects; defaults to the bound HTTPS port. */
  readonly publicHttpsPort?: number
  /** ACME for custom domains; off when absent. */
  readonly acme?: EdgeAcmeOptions | null
}

export interface EdgeDeps {
  readonly inspector: Inspector
  readonly logger?: EdgeLogger
  /**
   * Where the access log's lines go (one `info` per request, message `edge request`); defaults to `logger`.
   * On the request path: give it a buffered, asynchronous destination (an edge worker does).
   */
  readonly accessLogger?: EdgeLogger
  readonly onAccessLog?: (entry: AccessLogEntry) => void
  readonly onWafEvent?: (event: WafEvent) => void
  readonly throttle?: Throttle
  /** Failed Basic-auth guesses per client and environment (in-process by default; edge workers share one). */
  readonly loginThrottle?: Throttle
  /**
   * The plain values of an environment's secret variables: masked wherever they appear in a log line or a
   * WAF event's path. Called per logged request, so it must answer from memory.
   */
  readonly secretValues?: (environmentId: string) => Iterable<string> | undefined
  /** Milliseconds since the epoch; injected for tests. */
  readonly now?: () => number
}
