import type { Readable } from 'node:stream'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Deploy } from '../../deploy/index.js'
import type { Identity, Principal } from '../../iam/index.js'
import { PalisadeError, TooLargeError, UnauthenticatedError } from '../../shared/errors.js'
import type { Logger } from '../../shared/log.js'
import { contextOf } from '../context.js'

/** A push bigger than this is cut off (the repository is the customer's code, not its assets store). */
export const GIT_PUSH_LIMIT = 512 * 1024 * 1024
const SERVICES = new Set(['git-upload-pack', 'git-receive-pack'])

/** Basic auth with an API token as the password (any user name): only API tokens, never passwords or sessions. */
async function principalFromBasic(
  identity: Identity,
  request: FastifyRequest,
): Promise<Principal | undefined> {
  const header = request.headers.authorization
  if (typeof header !== 'string' || !header.startsWith('Basic ') || header.length > 4096) return undefined
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon === -1) return undefined
  const token = decoded.slice(colon + 1)
  if (!token.startsWith('pal_')) return undefined
  const p = await identity.authenticate(token, { ip: request.ip })
  if (p?.type !== 'token') return undefined
  // git cannot sign its requests (RFC 9421), so a signed-only token proves nothing here: a leaked signed-only
  // token must not clone or push (and so deploy) just because this path has no signature check.
  if (p.signed) {
    throw new UnauthenticatedError(
      'PAL_API_SIGNATURE_UNSUPPORTED',
      'this API token is signed-only, and git over HTTP cannot sign requests: use a token created without --signed for git',
      { publicCode: 'signature_required' },
    )
  }
  return p
}

/** Reads the CGI head (`Status:` and headers) and pipes the body. */
function relayCgi(stdout: Readable, reply: FastifyReply): Promise<void> {
  return new Promise((resolve) => {
    let head = Buffer.alloc(0)
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk])
      let end = head.indexOf('\r\n\r\n')
      let sep = 4
      if (end === -1) {
        end = head.indexOf('\n\n')
        sep = 2
      }
      if (end === -1) {
        if (head.length > 64 * 1024) stdout.destroy()
        return
      }
      stdout.off('data', onData)
      let status = 200
      const headers: Record<string, string> = { 'cache-control': 'no-store' }
      for (const line of head.subarray(0, end).toString('latin1').split(/\r?\n/)) {
        const i = line.indexOf(':')
        if (i === -1) continue
        const name = line.slice(0, i).trim().toLowerCase()
        const value = line.slice(i + 1).trim()
        if (name === 'status') status = Number.parseInt(value, 10) || 500
        else headers[name] = value
      }
      headers['x-request-id'] = reply.request.id
      reply.raw.writeHead(status, headers)
      reply.raw.write(head.subarray(end + sep))
      stdout.pipe(reply.raw)
      stdout.on('end', resolve)
    }
    stdout.on('data', onData)
    stdout.on('end', () => {
      if (!reply.raw.headersSent) {
        reply.raw.writeHead(502, { 'content-type': 'text/plain' })
        reply.raw.end('git backend failed\n')
      }
      resolve()
    })
  })
}

/**
 * git smart HTTP at /git/<workspace>/<project>.git (git http-backend as CGI). Fetching needs the read
 * scope, pushing the deploy scope; a push deploys the environments tracking the pushed branch and
 * streams their build logs back as `remote:` lines.
 */
export function registerGitRoutes(
  app: FastifyInstance,
  deps: { identity: Identity; deploy: Deploy; logger?: Logger },
): void {
  void app.register(async (scope) => {
    // Pack data is streamed to git as it arrives, never buffered or parsed here.
    for (const type of ['application/x-git-receive-pack-request', 'application/x-git-upload-pack-request']) {
      scope.addContentTypeParser(type, (_req, payload, done) => done(null, payload))
    }

    const handle = async (
      request: FastifyRequest,
      reply: FastifyReply,
      service: string,
      pathInfo: string,
    ): Promise<void> => {
      const pushing = service === 'git-receive-pack'
      const { workspace, repo } = request.params as { workspace: string; repo: string }
      // The operator's view of a push that deploys nothing (the pusher sees the HTTP error): wrong token,
      // unknown repository, or a role that may not deploy.
      const refused = (why: string): void => {
        if (pushing && request.method === 'POST')
          deps.logger?.warn(
            { workspace: workspace.slice(0, 100), repo: repo.slice(0, 100), ip: request.ip },
            `git push to ${workspace.slice(0, 100)}/${repo.slice(0, 100)} refused: ${why}; nothing deployed`,
          )
      }
      let principal: Principal | undefined
      try {
        principal = await principalFromBasic(deps.identity, request)
      } catch (error) {
        refused(error instanceof Error ? error.message : 'invalid credential')
        throw error
      }
      if (!principal) {
        refused('no valid API token')
        void reply.header('WWW-Authenticate', 'Basic realm="Palisade git", charset="UTF-8"')
        throw new UnauthenticatedError(
          'PAL_API_UNAUTHENTICATED',
          'use an API token (deploy scope to push) as the password',
          { publicCode: 'unauthenticated' },
        )
      }
      let target: Awaited<ReturnType<Deploy['git']['resolve']>>
      try {
        target = await deps.deploy.git.resolve(principal, workspace, repo, pushing)
      } catch (error) {
        const who = principal.type === 'platform' ? 'the platform' : principal.email
        refused(
          error instanceof PalisadeError && error.kind === 'not_found'
            ? `no such repository visible to ${who}`
            : error instanceof PalisadeError && error.kind === 'forbidden'
              ? `${who} may not deploy it`
              : 'error',
        )
        throw error
      }
      const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : ''
      const header = (n: string): string | undefined =>
        typeof request.headers[n] === 'string' ? request.headers[n] : undefined
      const child = await deps.deploy.git.backend({
        principal,
        ctx: contextOf(request),
        target,
        method: request.method,
        pathInfo,
        query,
        contentType: header('content-type'),
        contentEncoding: header('content-encoding'),
        gitProtocol: header('git-protocol'),
      })
      child.stderr.resume()
      const body = request.body as Readable | undefined
      if (request.method === 'POST' && body && typeof body.pipe === 'function') {
        let seen = 0
        body.on('data', (c: Buffer) => {
          seen += c.length
          if (seen > GIT_PUSH_LIMIT) {
            child.kill('SIGKILL')
            body.destroy(new TooLargeError('PAL_DEPLOY_PUSH_TOO_LARGE', 'push is too large'))
          }
        })
        body.pipe(child.stdin)
      } else {
        child.stdin.end()
      }
      reply.hijack()
      await relayCgi(child.stdout, reply)
    }

    const meta = { auth: 'public' as const, summary: 'git smart HTTP (Basic auth, API token as password)' }
    scope.get(
      '/git/:workspace/:repo/info/refs',
      { config: { meta }, bodyLimit: 1024 },
      async (request, reply) => {
        const service = (request.query as { service?: string }).service ?? ''
        if (!SERVICES.has(service)) {
          return reply
            .code(403)
            .type('text/plain')
            .send('smart HTTP only: ?service=git-upload-pack or git-receive-pack\n')
        }
        await handle(request, reply, service, '/info/refs')
      },
    )
    for (const service of SERVICES) {
      scope.post(`/git/:workspace/:repo/${service}`, { config: { meta } }, async (request, reply) =>
        handle(request, reply, service, `/${service}`),
      )
    }
  })
}
