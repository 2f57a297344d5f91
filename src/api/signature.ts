import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Identity } from '../iam/index.js'
import { UnauthenticatedError } from '../shared/errors.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The exact JSON body bytes, kept for Content-Digest checks of signed requests. */
    rawBody?: Buffer
  }
}

/**
 * Signed requests (RFC 9421): routes with `meta.signed`, every request made with a `signed: true`
 * API token, and every request that carries `Signature-Input` must have a valid signature. Runs after
 * the body is read (the digest covers it) and before validation and the handler. Without a bearer,
 * the signing key's token becomes the principal; with one, both must name the same token.
 */
export function registerSignedRequests(
  app: FastifyInstance,
  deps: { identity: Identity; publicUrl?: string | undefined },
): void {
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    request.rawBody = body as Buffer
    // Fastify's own parser (prototype-poisoning checks) accepts the buffer as well as a string.
    void parseJson(request, body as unknown as string, done)
  })

  app.addHook('preValidation', async (request) => {
    const meta = request.routeOptions.config.meta
    const principal = request.principal
    const tokenSigned = principal?.type === 'token' && principal.signed
    if (meta?.signed !== true && !tokenSigned && request.headers['signature-input'] === undefined) return
    const token = await deps.identity.signatures.verify({
      method: request.method,
      targetUris: targetUris(request, deps.publicUrl),
      headers: request.headers,
      body: request.rawBody ?? Buffer.alloc(0),
    })
    if (principal === undefined) {
      request.principal = {
        type: 'token',
        userId: token.userId,
        email: token.email,
        tokenId: token.id,
        scopes: token.scopes,
        mfa: token.mfa,
        signed: true,
      }
    } else if (principal.type !== 'token' || principal.tokenId !== token.id) {
      throw new UnauthenticatedError(
        'PAL_API_SIGNATURE_KEY_MISMATCH',
        'the signature keyid is not the bearer token',
        { publicCode: 'signature_invalid' },
      )
    }
  })
}

/** The URI the client may have signed: as seen through the public URL, and as addressed (Host header). */
function targetUris(request: FastifyRequest, publicUrl: string | undefined): string[] {
  const out = new Set<string>()
  if (publicUrl) out.add(new URL(publicUrl).origin + request.url)
  const host = request.headers.host
  if (typeof host === 'string' && /^[A-Za-z0-9.:[\]-]{1,300}$/.test(host))
    out.add(`${request.protocol}://${host}${request.url}`)
  return [...out]
}
