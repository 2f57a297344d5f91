import { PalisadeError } from '../../../shared/errors.js'
import { isRecord, type KubeObject } from './kube-client.js'
import { KUBE_ERRORS } from './kube-errors.js'

/**
 * Read-back checks: what the API server stored must hold everything that was sent. The 1.20 API server
 * drops unknown fields silently, and a typed client can rename a field (`from` → `_from`) so that a
 * NetworkPolicy loses its peers and allows everything; both show up here as a difference.
 */

/** Paths of every value in `sent` that `live` lacks or holds differently (server defaults are ignored). */
export function missingFields(sent: unknown, live: unknown, at = ''): string[] {
  // The API server omits empty maps and lists (an environment with no variables: `data` absent).
  const empty = Array.isArray(sent) ? sent.length === 0 : isRecord(sent) && Object.keys(sent).length === 0
  if (empty && (live === undefined || live === null)) return []
  if (Array.isArray(sent)) {
    if (!Array.isArray(live) || live.length !== sent.length) return [at || '/']
    return sent.flatMap((s: unknown, i) => missingFields(s, live[i], `${at}[${i}]`))
  }
  if (isRecord(sent)) {
    if (!isRecord(live)) return [at || '/']
    return Object.entries(sent).flatMap(([k, v]) => missingFields(v, live[k], at ? `${at}.${k}` : k))
  }
  return sent === live ? [] : [at || '/']
}

/** The fields of a manifest the control plane owns (status and server metadata excluded). */
function desiredPart(obj: KubeObject): Record<string, unknown> {
  const { status: _s, ...rest } = obj as Record<string, unknown>
  return rest
}

/** Throws PAL_KUBE_READBACK_MISMATCH naming the fields the cluster does not hold as sent. */
export function assertReadBack(sent: KubeObject, live: KubeObject): void {
  const missing = missingFields(desiredPart(sent), live)
  if (missing.length > 0) {
    throw new PalisadeError(
      'unavailable',
      KUBE_ERRORS.readbackMismatch,
      `${sent.kind} ${sent.metadata.name} read back without ${missing.slice(0, 5).join(', ')} (the API server dropped or changed them)`,
    )
  }
  if (sent.kind === 'NetworkPolicy') assertPolicyPeers(sent, live)
}

/**
 * Every ingress/egress rule that was sent with peers must come back with the same, non-empty peers: a rule
 * whose `from`/`to` is missing or empty allows every source or destination.
 */
export function assertPolicyPeers(sent: KubeObject, live: KubeObject): void {
  const spec = (o: KubeObject): Record<string, unknown> => (isRecord(o['spec']) ? o['spec'] : {})
  for (const [dir, peers] of [
    ['ingress', 'from'],
    ['egress', 'to'],
  ] as const) {
    const sentRules = spec(sent)[dir]
    const liveRules = spec(live)[dir]
    if (!Array.isArray(sentRules)) continue
    sentRules.forEach((rule: unknown, i) => {
      const want = isRecord(rule) ? rule[peers] : undefined
      if (!Array.isArray(want) || want.length === 0) {
        throw new PalisadeError(
          'internal',
          KUBE_ERRORS.readbackMismatch,
          `NetworkPolicy ${sent.metadata.name} ${dir}[${i}] has no ${peers} peers: it would allow everything`,
        )
      }
      const got: unknown =
        Array.isArray(liveRules) && isRecord(liveRules[i]) ? liveRules[i][peers] : undefined
      if (!Array.isArray(got) || got.length === 0 || missingFields(want, got).length > 0) {
        throw new PalisadeError(
          'unavailable',
          KUBE_ERRORS.readbackMismatch,
          `NetworkPolicy ${sent.metadata.name} ${dir}[${i}] read back without its ${peers} peers: it would allow everything`,
        )
      }
    })
  }
}
