/**
 * Helpers for the edge's own tests (real sockets, port 0). Not used by production code.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { allowAllInspector } from './allow-all-inspector.js'
import { createEdge, type Edge } from './edge.js'
import type { EdgeDeps, EdgeOptions, EdgeRoute } from './types.js'

export interface SeenRequest {
  readonly method: string
  readonly url: string
  readonly headers: IncomingHttpHeaders
  readonly rawHeaders: readonly string[]
  readonly body: string
}

export interface TestUpstream {
  readonly port: number
  readonly seen: SeenRequest[]
  /** Stops at once, cutting open connections. */
  close(): Promise<void>
  /** Stops accepting, lets in-flight requests finish and closes idle keep-alive connections (a graceful stop). */
  drain(): Promise<void>
}

/** An upstream that answers `<name>` JSON echoing what it received. */
export async function startUpstream(
  name: string,
  handler?: (req: SeenRequest, res: import('node:http').ServerResponse) => boolean,
): Promise<TestUpstream & { server: Server }> {
  const seen: SeenRequest[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const s: SeenRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body: Buffer.concat(chunks).toString(),
      }
      seen.push(s)
      if (handler?.(s, res)) return
      const body = JSON.stringify({ name, method: s.method, url: s.url })
      res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': name })
      res.end(body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    server,
    port: (server.address() as AddressInfo).port,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
    drain: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

export function testOptions(dataDir: string, overrides: Partial<EdgeOptions> = {}): EdgeOptions {
  return {
    httpListen: '127.0.0.1:0',
    httpsListen: '127.0.0.1:0',
    dataDir,
    baseDomain: 'localhost',
    limits: {
      maxHeaderBytes: 16 * 1024,
      maxBodyBytes: 64 * 1024,
      upstreamTimeoutMs: 2_000,
      idleTimeoutMs: 5_000,
      headerTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      maxUrlBytes: 8 * 1024,
      maxConnectionsPerClient: 128,
    },
    trustProxy: false,
    ...overrides,
  }
}

export function testRoute(
  overrides: Partial<EdgeRoute> & Pick<EdgeRoute, 'environmentId' | 'hosts'>,
): EdgeRoute {
  return {
    workspaceId: 'ws_test',
    target: { kind: 'none' },
    maintenance: false,
    access: { ipAllow: [], basicAuth: null },
    throttle: { requestsPerSecond: 0, burst: 0 },
    waf: {},
    httpsRedirect: false,
    hsts: false,
    ...overrides,
  }
}

export interface StartedEdge {
  readonly edge: Edge
  readonly httpPort: number
  readonly httpsPort: number
  readonly dataDir: string
}

/** Starts an edge on 127.0.0.1 with free ports and a temp data dir; `stop` removes both. */
export async function startEdge(
  deps: Partial<EdgeDeps> = {},
  overrides: Partial<EdgeOptions> = {},
): Promise<StartedEdge & { stop(): Promise<void> }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'palisade-edge-'))
  const edge = await createEdge(testOptions(dataDir, overrides), { inspector: allowAllInspector, ...deps })
  const { http, https } = await edge.listen()
  return {
    edge,
    httpPort: http.port,
    httpsPort: https.port,
    dataDir,
    async stop() {
      await edge.close()
      await rm(dataDir, { recursive: true, force: true })
    },
  }
}

export interface RawResponse {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  readonly body: string
}

/** One request on a fresh connection (no agent), optionally from a given loopback address. */
export function send(
  port: number,
  options: {
    host?: string
    path?: string
    method?: string
    headers?: Record<string, string> | string[]
    body?: string | Buffer
    localAddress?: string
  } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const headers = options.headers ?? {}
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: options.path ?? '/',
        method: options.method ?? 'GET',
        headers: Array.isArray(headers) ? headers : { host: options.host ?? 'app.localhost', ...headers },
        agent: false,
        ...(options.localAddress ? { localAddress: options.localAddress } : {}),
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        )
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(options.body)
  })
}
