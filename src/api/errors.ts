import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { isPalisadeError, type ErrorKind, type PalisadeError } from '../shared/errors.js'

/** The only place where an error kind becomes an HTTP status. */
export const STATUS_OF_KIND: Readonly<Record<ErrorKind, number>> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unprocessable: 422,
  too_large: 413,
  throttled: 429,
  unavailable: 503,
  internal: 500,
}

export interface ErrorBody {
  error: { code: string; message: string; requestId: string; details?: Array<{ field: string; message: string }> }
}

interface Mapped {
  status: number
  code: string
  message: string
  details?: Array<{ field: string; message: string }>
  retryAfter?: number
}

/** Fastify's own errors (parsing, limits, validation) in our vocabulary. */
function mapFastifyError(error: FastifyError): Mapped | undefined {
  if (error.validation) {
    const details = error.validation.map((v) => {
      const params = v.params
      const base = v.instancePath ? v.instancePath.slice(1).replaceAll('/', '.') : ''
      const extra = (params['additionalProperty'] ?? params['missingProperty']) as string | undefined
      const field = [error.validationContext === 'body' ? '' : error.validationContext, base, extra].filter(Boolean).join('.') || String(error.validationContext ?? 'body')
      const message = params['additionalProperty'] !== undefined ? 'is not a known field' : (v.message ?? 'is invalid')
      return { field, message }
    })
    const first = details[0]
    return { status: 400, code: 'invalid_request', message: first ? `${first.field} ${first.message}` : 'request is invalid', details }
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, code: 'body_too_large', message: 'request body is too large' }
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, code: 'unsupported_media_type', message: 'content type must be application/json' }
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, code: 'invalid_json', message: 'body is empty but the content type is application/json' }
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { status: 400, code: 'invalid_request', message: 'content length does not match the body' }
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { status: 400, code: 'invalid_json', message: 'body is not valid JSON' }
  }
  if (error instanceof SyntaxError || error.statusCode === 400) return { status: 400, code: 'invalid_json', message: 'body is not valid JSON' }
  if (error.statusCode === 413) return { status: 413, code: 'body_too_large', message: 'request body is too large' }
  return undefined
}

function mapPalisade(error: PalisadeError): Mapped {
  const status = STATUS_OF_KIND[error.kind]
  const mapped: Mapped = { status, code: error.publicCode, message: error.message }
  if (error.details) mapped.details = error.details.map((d) => ({ field: d.field, message: d.message }))
  if (error.retryAfter !== undefined) mapped.retryAfter = error.retryAfter
  return mapped
}

export function errorBody(requestId: string, code: string, message: string, details?: Array<{ field: string; message: string }>): ErrorBody {
  return { error: details ? { code, message, requestId, details } : { code, message, requestId } }
}

export function sendError(request: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply {
  const mapped = isPalisadeError(error) ? mapPalisade(error) : mapFastifyError(error as FastifyError)
  if (!mapped || mapped.status >= 500) {
    request.log.error({ err: error }, 'request failed')
    // A 5xx body carries only a code and the request id: no internals leak.
    const status = mapped?.status ?? 500
    return reply.code(status).type('application/json').send(errorBody(request.id, status === 503 ? 'unavailable' : 'internal', status === 503 ? 'service unavailable' : 'internal error'))
  }
  if (mapped.retryAfter !== undefined) void reply.header('Retry-After', String(Math.max(1, Math.ceil(mapped.retryAfter))))
  return reply.code(mapped.status).type('application/json').send(errorBody(request.id, mapped.code, mapped.message, mapped.details))
}
