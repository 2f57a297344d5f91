import { evaluateRequest, type Waf, type WafRequest } from '../waf/index.js'
import type { EdgeRoute, InspectedRequest, Verdict } from './types.js'

/**
 * Adapts Palisade's WAF engine to the edge's inspector hook. `wafFor` picks the compiled WAF for a route
 * (the composition root caches one per distinct settings object: paranoia, exclusions).
 *
 * Every interruption is a block: `deny` keeps the rule's status, `drop` and `redirect` become 403 — the
 * edge never lets a rule send a visitor to another site.
 *
 * @example
 * ```ts
 * const waf = createWaf(crsRuleSet(crsDir, DEFAULT_WAF_SETTINGS, source))
 * const edge = await createEdge(options, { inspector: createWafInspector(() => waf) })
 * ```
 */
export function createWafInspector(
  wafFor: (route: EdgeRoute) => Waf,
): (request: InspectedRequest, route: EdgeRoute) => Verdict {
  return (request: InspectedRequest, route: EdgeRoute): Verdict => inspectWithWaf(wafFor(route), request)
}

/** One request through one compiled WAF, as the edge's verdict (also used by `POST /v1/decide`). */
export function inspectWithWaf(waf: Waf, request: InspectedRequest): Verdict {
  const wafRequest: WafRequest = {
    method: request.method,
    uri: request.uri,
    protocol: `HTTP/${request.httpVersion}`,
    // The engine only reads the headers: the edge's pairs are handed over as they are, not copied.
    headers: request.headers as Array<[string, string]>,
    remoteAddr: request.clientIp,
    remotePort: request.clientPort,
    serverName: request.host,
    serverPort: request.serverPort,
    id: request.requestId,
    ...(request.body === null ? {} : { body: request.body }),
  }
  const verdict = evaluateRequest(waf, wafRequest)
  const ruleIds = verdict.rules.map(String)
  // Built only for requests that matched something: a clean request (the hot path) allocates nothing more.
  const detail = () => ({
    score: verdict.score,
    matches: verdict.matched
      .filter((m) => m.log)
      .map((m) => ({ id: String(m.id), msg: m.msg, data: m.data })),
  })
  const interruption = verdict.interruption
  if (interruption) {
    const status = interruption.action === 'deny' && interruption.status >= 400 ? interruption.status : 403
    const ids = ruleIds.includes(String(interruption.ruleId))
      ? ruleIds
      : [...ruleIds, String(interruption.ruleId)]
    return { action: 'block', status, ruleIds: ids, ...detail() }
  }
  return ruleIds.length > 0 ? { action: 'allow', ruleIds, ...detail() } : { action: 'allow' }
}
