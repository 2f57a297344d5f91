import { lookup } from 'node:dns/promises'
import { chmodSync, mkdirSync, rmSync } from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import path from 'node:path'
import { hostAllowed, isPublicAddress, type EgressPolicy } from './egress-policy.js'

export type Resolver = (host: string) => Promise<readonly string[]>

export interface EgressGatewayOptions {
  /** Root-owned directory (0700) where the gateway's Unix sockets are created. */
  readonly socketDir: string
  /** Told of every refused connection, for the environment's log. */
  readonly onRefusal: (tag: string, target: string, reason: string) => void
  /** Name resolution (tests inject one); default: the system resolver, every address. */
  readonly resolve?: Resolver
  /** Idle connections are closed after this long (ms). */
  readonly idleMs?: number
  /** Which resolved addresses may be reached (default: public ones only; benchmarks pass loopback). */
  readonly isAllowedAddress?: (address: string) => boolean
}

const defaultResolve: Resolver = async (host) => (await lookup(host, { all: true })).map((a) => a.address)

/** The first address `host` may be reached at under `policy`, or why not. */
export async function decideTarget(
  policy: EgressPolicy,
  host: string,
  resolve: Resolver,
  isAllowedAddress: (address: string) => boolean = isPublicAddress,
): Promise<{ ok: true; address: string } | { ok: false; reason: string }> {
  const bare = host.replace(/^\[|\]$/g, '')
  if (!hostAllowed(policy, bare)) return { ok: false, reason: 'not on the allow list' }
  let addresses: readonly string[]
  if (net.isIP(bare)) addresses = [bare]
  else {
    try {
      addresses = await resolve(bare)
    } catch {
      return { ok: false, reason: 'does not resolve' }
    }
  }
  // Every address must be public: a name that answers with a private one among public ones is a
  // rebinding attempt. The connection goes to the checked address, never to a second lookup.
  if (addresses.length === 0) return { ok: false, reason: 'does not resolve' }
  const refused = addresses.find((a) => !isAllowedAddress(a))
  if (refused !== undefined) return { ok: false, reason: `resolves to a non-public address (${refused})` }
  return { ok: true, address: addresses[0] as string }
}

function parseAuthority(authority: string): { host: string; port: number } | null {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+):(\d{1,5})$/.exec(authority)
  if (!m) return null
  const port = Number(m[2])
  if (port < 1 || port > 65535) return null
  return { host: m[1] as string, port }
}

/**
 * The egress gateway: an HTTP proxy (CONNECT for TLS, absolute-form requests for plain HTTP) on one
 * Unix socket per environment and purpose. Each socket carries its policy; the environment's
 * sandbox reaches it through a forwarder on its own loopback. Refuses loopback, private, link-local
 * and metadata addresses after resolution, and, under an allow list, every other host.
 */
export function createEgressGateway(options: EgressGatewayOptions) {
  const resolve = options.resolve ?? defaultResolve
  const allowed = options.isAllowedAddress ?? isPublicAddress
  const idleMs = options.idleMs ?? 120_000
  const servers = new Map<string, http.Server>()
  mkdirSync(options.socketDir, { recursive: true, mode: 0o700 })
  chmodSync(options.socketDir, 0o700)

  function serverFor(tag: string, policy: EgressPolicy): http.Server {
    const refuse = (target: string, reason: string): void => options.onRefusal(tag, target, reason)
    const server = http.createServer({ requestTimeout: 60_000 }, (req, res) => {
      // Plain HTTP through a proxy: the request line holds the absolute URL.
      let url: URL
      try {
        url = new URL(req.url ?? '')
      } catch {
        res.writeHead(400).end('palisade egress: absolute URL expected\n')
        return
      }
      if (url.protocol !== 'http:') {
        res.writeHead(400).end('palisade egress: only http:// here; use CONNECT for https\n')
        return
      }
      const port = Number(url.port || 80)
      void decideTarget(policy, url.hostname, resolve, allowed).then((d) => {
        if (!d.ok) {
          refuse(`${url.hostname}:${port}`, d.reason)
          res
            .writeHead(403, { 'x-palisade-refusal': d.reason })
            .end(`palisade egress: ${url.hostname} refused: ${d.reason}\n`)
          return
        }
        const headers = { ...req.headers }
        delete headers['proxy-connection']
        delete headers['proxy-authorization']
        const upstream = http.request(
          {
            host: d.address,
            port,
            method: req.method,
            path: url.pathname + url.search,
            headers: { ...headers, host: url.host },
            setHost: false,
          },
          (up) => {
            res.writeHead(up.statusCode ?? 502, up.headers)
            up.pipe(res)
          },
        )
        upstream.setTimeout(idleMs, () => upstream.destroy())
        upstream.on('error', () => {
          if (!res.headersSent) res.writeHead(502).end('palisade egress: upstream failed\n')
          else res.destroy()
        })
        req.pipe(upstream)
      })
    })
    server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
      client.on('error', () => client.destroy())
      const target = parseAuthority(req.url ?? '')
      if (!target) {
        client.end('HTTP/1.1 400 Bad Request\r\n\r\n')
        return
      }
      void decideTarget(policy, target.host, resolve, allowed).then((d) => {
        if (!d.ok) {
          refuse(`${target.host}:${target.port}`, d.reason)
          client.end(
            `HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\nx-palisade-refusal: ${d.reason}\r\n\r\npalisade egress: ${d.reason}\n`,
          )
          return
        }
        const upstream = net.connect({ host: d.address, port: target.port })
        upstream.setTimeout(idleMs, () => upstream.destroy())
        client.setTimeout(idleMs, () => client.destroy())
        upstream.once('connect', () => {
          client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
          if (head.length > 0) upstream.write(head)
          upstream.pipe(client)
          client.pipe(upstream)
        })
        upstream.on('error', () => {
          if (client.writable) client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n')
          client.destroy()
        })
        client.on('close', () => upstream.destroy())
      })
    })
    return server
  }

  return {
    /** Listens for `tag` (an environment and purpose) with `policy`; returns the socket path. */
    async open(tag: string, policy: EgressPolicy): Promise<string> {
      if (!/^[a-z0-9-]{1,64}$/.test(tag)) throw new Error(`bad egress tag ${tag}`)
      const socketPath = path.join(options.socketDir, `${tag}.sock`)
      const prior = servers.get(tag)
      if (prior) await new Promise<void>((r) => prior.close(() => r()))
      rmSync(socketPath, { force: true })
      const server = serverFor(tag, policy)
      await new Promise<void>((resolveListen, reject) => {
        server.once('error', reject)
        server.listen(socketPath, () => resolveListen())
      })
      servers.set(tag, server)
      return socketPath
    },

    async close(tag?: string): Promise<void> {
      const tags = tag === undefined ? [...servers.keys()] : [tag]
      await Promise.all(
        tags.map(async (t) => {
          const s = servers.get(t)
          servers.delete(t)
          if (s) {
            s.closeAllConnections()
            await new Promise<void>((r) => s.close(() => r()))
          }
        }),
      )
    },
  }
}

export type EgressGateway = ReturnType<typeof createEgressGateway>
