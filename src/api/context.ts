import type { FastifyRequest } from 'fastify'
import type { Principal } from '../iam/index.js'
import type { RequestContext } from '../shared/context.js'
import { UnauthenticatedError } from '../shared/errors.js'

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | undefined
  }
}

export function contextOf(request: FastifyRequest): RequestContext {
  const ua = request.headers['user-agent']
  return {
    requestId: request.id,
    ip: request.ip,
    userAgent: typeof ua === 'string' ? ua.slice(0, 512) : null,
  }
}

/** The authenticated principal; routes marked `required` never run without one. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal)
    throw new UnauthenticatedError('PAL_API_UNAUTHENTICATED', 'authentication required', {
      publicCode: 'unauthenticated',
    })
  return request.principal
}
