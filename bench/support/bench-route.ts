import type { EdgeRoute } from '../../src/edge/index.js'

/** The one route every edge benchmark serves: `bench.localhost` → the upstream on loopback, no restrictions. */
export function benchRoute(upstreamPort: number): EdgeRoute {
  return {
    environmentId: 'env_bench',
    workspaceId: 'ws_bench',
    hosts: ['bench.localhost'],
    target: { kind: 'proxy', upstream: { host: '127.0.0.1', port: upstreamPort } },
    maintenance: false,
    access: { ipAllow: [], basicAuth: null },
    throttle: { requestsPerSecond: 0, burst: 0 },
    waf: {},
    httpsRedirect: false,
    hsts: false,
  }
}
