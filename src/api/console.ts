import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { createHash } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

/**
 * The web console's side of the API (issue #24): its built files served on the API's origin, the browser session
 * cookie and the same-origin rule for requests that carry it.
 */

/** The browser session's cookie: `HttpOnly` (no script reads it), `SameSite=Strict`, `Secure` over TLS. */
export const SESSION_COOKIE = 'palisade_session'

/**
 * Headers on every console response. Scripts and styles come only from the console's own files (no inline code:
 * an injected value can never run), nothing may frame it (clickjacking), no Referer leaks an invitation token.
 */
export const CONSOLE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
})

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
}

interface ConsoleFile {
  readonly body: Buffer
  readonly type: string
  readonly etag: string
}

/** The console's built files, read once at start (the install directory, never a path a tenant can write). */
export interface ConsoleFiles {
  readonly index: ConsoleFile
  /** By URL path (`/assets/index-abc123.js`). */
  readonly files: ReadonlyMap<string, ConsoleFile>
}

/** 8 MiB: the console is a few hundred KiB; a larger directory is not what `vite build` wrote. */
const MAX_CONSOLE_BYTES = 8 * 1024 * 1024

/** Reads `dir` (the output of `vite build`); undefined when there is no built console there. */
export function loadConsoleFiles(dir: string): ConsoleFiles | undefined {
  const indexPath = path.join(dir, 'index.html')
  if (!existsSync(indexPath)) return undefined
  const files = new Map<string, ConsoleFile>()
  let total = 0
  const walk = (rel: string): void => {
    for (const entry of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const relPath = path.posix.join(rel, entry.name)
      if (entry.isDirectory()) walk(relPath)
      else if (entry.isFile()) {
        const type = TYPES[path.extname(entry.name).toLowerCase()]
        if (!type) continue
        const full = path.join(dir, relPath)
        total += statSync(full).size
        if (total > MAX_CONSOLE_BYTES) throw new Error(`the console in ${dir} is larger than 8 MiB`)
        const body = readFileSync(full)
        files.set('/' + relPath, {
          body,
          type,
          etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
        })
      }
    }
  }
  walk('')
  const index = files.get('/index.html')
  if (!index) return undefined
  return { index, files }
}

function sendFile(request: FastifyRequest, reply: FastifyReply, file: ConsoleFile, immutable: boolean) {
  void reply.headers(CONSOLE_HEADERS)
  void reply.header('content-type', file.type)
  void reply.header('etag', file.etag)
  // Hashed asset names change with their content; the page itself is revalidated on every load.
  void reply.header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
  if (request.headers['if-none-match'] === file.etag) return reply.code(304).send()
  return reply.send(file.body)
}

/** The console's page for a browser that asked for one (a GET for HTML outside /v1), else undefined. */
export function consolePageFor(
  files: ConsoleFiles | undefined,
  request: FastifyRequest,
): ConsoleFile | undefined {
  if (!files || (request.method !== 'GET' && request.method !== 'HEAD')) return undefined
  const p = request.url.split('?')[0] ?? ''
  if (p.startsWith('/v1/') || p === '/v1' || p === '/metrics') return undefined
  const accept = request.headers.accept ?? ''
  return accept.includes('text/html') ? files.index : undefined
}

/** Answers the console's page (client-side routes: the console renders its own "not found"). */
export function sendConsolePage(request: FastifyRequest, reply: FastifyReply, files: ConsoleFiles) {
  return sendFile(request, reply, files.index, false)
}

/** `/` and the built assets. */
export function registerConsoleRoutes(app: FastifyInstance, files: ConsoleFiles): void {
  const meta = { auth: 'public' as const, summary: 'The web console' }
  app.get('/', { config: { meta } }, (request, reply) => sendFile(request, reply, files.index, false))
  app.get('/assets/*', { config: { meta } }, (request, reply) => {
    const p = request.url.split('?')[0] ?? ''
    const file = files.files.get(p)
    if (!file) {
      void reply.headers(CONSOLE_HEADERS)
      return reply.code(404).type('text/plain; charset=utf-8').send('not found\n')
    }
    return sendFile(request, reply, file, true)
  })
  for (const [p, file] of files.files) {
    if (p.startsWith('/assets/') || p === '/index.html') continue
    app.get(p, { config: { meta } }, (request, reply) => sendFile(request, reply, file, false))
  }
}

/** The session token a request's `Cookie` header carries, if any. */
export function sessionCookieOf(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie
  if (typeof header !== 'string' || header.length > 8192) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq < 0) continue
    if (part.slice(0, eq).trim() !== SESSION_COOKIE) continue
    const value = part.slice(eq + 1).trim()
    return /^[\x21-\x7e]{1,200}$/.test(value) ? value : undefined
  }
  return undefined
}

/** Whether the request came over TLS, or the public URL is https (a TLS-terminating proxy in front). */
function overTls(request: FastifyRequest, publicUrl: string | undefined): boolean {
  return request.protocol === 'https' || (publicUrl ?? '').startsWith('https://')
}

export function sessionCookie(
  request: FastifyRequest,
  publicUrl: string | undefined,
  token: string,
  maxAgeSeconds: number,
): string {
  const secure = overTls(request, publicUrl) ? '; Secure' : ''
  return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}${secure}`
}

export function clearedSessionCookie(request: FastifyRequest, publicUrl: string | undefined): string {
  const secure = overTls(request, publicUrl) ? '; Secure' : ''
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure}`
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/**
 * Cross-site request forgery: a state-changing request that a browser could have sent from another site (it
 * carries the session cookie, or an `Origin`) must come from the console's own origin — the address it was sent
 * to, or the public URL. `SameSite=Strict` is the first wall, this the second (old browsers, sibling subdomains).
 */
export function isCrossOrigin(
  request: FastifyRequest,
  viaCookie: boolean,
  publicUrl: string | undefined,
): boolean {
  if (!STATE_CHANGING.has(request.method)) return false
  const origin = request.headers.origin
  if (!viaCookie && origin === undefined) return false
  if (typeof origin !== 'string') return true
  const own = new Set([`${request.protocol}://${request.host}`])
  if (publicUrl) {
    try {
      own.add(new URL(publicUrl).origin)
    } catch {
      // An unparsable public URL adds no origin.
    }
  }
  return !own.has(origin)
}
