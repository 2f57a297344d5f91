import type { Waf } from '../waf/index.js'
import type { WafMatch } from './types.js'
import { inspectWithWaf } from './waf-inspector.js'

/** A request described by an external proxy (nginx `auth_request` via a signer, Envoy ext_authz, …). */
export interface TrafficRequest {
  readonly decisionId: string
  readonly method: string
  /** Request target as the proxy received it: path and query, or an absolute URL. */
  readonly uri: string
  /** Header [name, value] pairs in the order the proxy saw them. */
  readonly headers: readonly (readonly [string, string])[]
  readonly body: Buffer | null
  readonly clientIp: string
}

export interface TrafficDecision {
  readonly decisionId: string
  readonly decision: 'allow' | 'deny'
  /** The status the proxy should answer with when it denies (403 unless a rule says otherwise). */
  readonly status: number
  /** Inbound anomaly score. */
  readonly score: number
  /** Ids of every rule that matched (the blocking one included). */
  readonly rules: readonly string[]
  readonly matches: readonly WafMatch[]
}

/**
 * Runs one described request through the same WAF and verdict mapping the edge uses, so that a proxy in
 * front of an app Palisade does not host gets exactly the edge's decision. Absolute-form targets are
 * reduced to path and query (the host comes from the Host header, as it does at the edge).
 */
export function decideTraffic(waf: Waf, request: TrafficRequest): TrafficDecision {
  const { target, host: targetHost, tls } = splitTarget(request.uri)
  const hostHeader = request.headers.find(([name]) => name.toLowerCase() === 'host')?.[1]
  const host = hostHeader ?? targetHost ?? ''
  const headers =
    hostHeader === undefined && targetHost
      ? [['Host', targetHost] as const, ...request.headers]
      : request.headers
  const verdict = inspectWithWaf(waf, {
    requestId: request.decisionId,
    clientIp: request.clientIp,
    clientPort: 0,
    serverPort: tls ? 443 : 80,
    tls,
    method: request.method,
    uri: target,
    httpVersion: '1.1',
    host: host.replace(/:\d+$/, '').toLowerCase(),
    headers,
    body: request.body,
    upgrade: false,
  })
  const blocked = verdict.action === 'block'
  return {
    decisionId: request.decisionId,
    decision: blocked ? 'deny' : 'allow',
    status: blocked ? verdict.status : 200,
    score: verdict.score ?? 0,
    rules: verdict.ruleIds ?? [],
    matches: verdict.matches ?? [],
  }
}

function splitTarget(uri: string): { target: string; host: string | undefined; tls: boolean } {
  const m = /^(https?):\/\/([^/?#]*)(.*)$/i.exec(uri)
  if (!m) return { target: uri, host: undefined, tls: false }
  const rest = m[3] ?? ''
  return {
    target: rest.startsWith('/') ? rest : `/${rest}`,
    host: m[2] || undefined,
    tls: m[1]!.toLowerCase() === 'https',
  }
}
