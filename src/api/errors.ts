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
  error: {
    code: string
    message: string
    requestId: string
    details?: Array<{ field: string; message: string }>
  }
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
    const fieldOf = (v: (typeof error.validation)[number]): string => {
      const base = v.instancePath ? v.instancePath.slice(1).replaceAll('/', '.') : ''
      const extra = (v.params['additionalProperty'] ?? v.params['missingProperty']) as string | undefined
      return (
        [error.validationContext === 'body' ? '' : error.validationContext, base, extra]
          .filter(Boolean)
          .join('.') || String(error.validationContext ?? 'body')
      )
    }
    // A union of literals fails as one `const` error per choice plus an `anyOf`: one sentence naming the choices.
    const choices = new Map<string, unknown[]>()
    for (const v of error.validation)
      if (v.keyword === 'const')
        choices.set(fieldOf(v), [...(choices.get(fieldOf(v)) ?? []), v.params['allowedValue']])
    const details: Array<{ field: string; message: string }> = []
    for (const v of error.validation) {
      const field = fieldOf(v)
      if (v.keyword === 'const' || (v.keyword === 'anyOf' && choices.has(field))) {
        if (details.some((d) => d.field === field)) continue
        const values = choices.get(field) ?? []
        details.push({ field, message: `must be one of ${values.map((x) => JSON.stringify(x)).join(', ')}` })
        continue
      }
      details.push({ field, message: validationSentence(v.keyword, v.params, v.message) })
    }
    const first = details[0]
    return {
      status: 400,
      code: 'invalid_request',
      message: first ? `${first.field} ${first.message}` : 'request is invalid',
      details,
    }
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, code: 'body_too_large', message: 'request body is too large' }
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, code: 'unsupported_media_type', message: 'content type must be application/json' }
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return {
        status: 400,
        code: 'invalid_json',
        message: 'body is empty but the content type is application/json',
      }
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { status: 400, code: 'invalid_request', message: 'content length does not match the body' }
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { status: 400, code: 'invalid_json', message: 'body is not valid JSON' }
  }
  if (error instanceof SyntaxError || error.statusCode === 400)
    return { status: 400, code: 'invalid_json', message: 'body is not valid JSON' }
  if (error.statusCode === 413)
    return { status: 413, code: 'body_too_large', message: 'request body is too large' }
  return undefined
}

/** The name pattern of DESIGN.md §9, said in words. */
const NAME_PATTERN = '^[a-z][a-z0-9-]{1,62}$'

/** An ajv error as a sentence a user can act on (never the raw schema text). */
export function validationSentence(
  keyword: string,
  params: Record<string, unknown>,
  fallback?: string,
): string {
  const n = (k: string): string => String(params[k])
  switch (keyword) {
    case 'additionalProperties':
      return 'is not a known field'
    case 'required':
      return 'is required'
    case 'pattern':
      return params['pattern'] === NAME_PATTERN
        ? 'must be 2 to 63 characters: a lowercase letter, then lowercase letters, digits or hyphens (like my-app-2)'
        : 'is not in the expected form'
    case 'minimum':
      return `must be at least ${n('limit')}`
    case 'maximum':
      return `must be at most ${n('limit')}`
    case 'exclusiveMinimum':
      return `must be more than ${n('limit')}`
    case 'exclusiveMaximum':
      return `must be less than ${n('limit')}`
    case 'minLength':
      return params['limit'] === 1 ? 'must not be empty' : `must be at least ${n('limit')} characters long`
    case 'maxLength':
      return `must be at most ${n('limit')} characters long`
    case 'minItems':
      return `must have at least ${n('limit')} entries`
    case 'maxItems':
      return `must have at most ${n('limit')} entries`
    case 'type':
      return `must be ${/^[aeiou]/.test(n('type')) ? 'an' : 'a'} ${n('type')}`
    case 'enum':
      return `must be one of ${((params['allowedValues'] as unknown[] | undefined) ?? []).map((x) => JSON.stringify(x)).join(', ')}`
    case 'format':
      return `must be a valid ${n('format')}`
    case 'multipleOf':
      return `must be a multiple of ${n('multipleOf')}`
    case 'uniqueItems':
      return 'must not repeat an entry'
    default:
      return fallback ?? 'is invalid'
  }
}

function mapPalisade(error: PalisadeError): Mapped {
  const status = STATUS_OF_KIND[error.kind]
  const mapped: Mapped = { status, code: error.publicCode, message: error.message }
  if (error.details) mapped.details = error.details.map((d) => ({ field: d.field, message: d.message }))
  if (error.retryAfter !== undefined) mapped.retryAfter = error.retryAfter
  return mapped
}

export function errorBody(
  requestId: string,
  code: string,
  message: string,
  details?: Array<{ field: string; message: string }>,
): ErrorBody {
  return { error: details ? { code, message, requestId, details } : { code, message, requestId } }
}

export function sendError(request: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply {
  const mapped = isPalisadeError(error) ? mapPalisade(error) : mapFastifyError(error as FastifyError)
  if (!mapped || mapped.status >= 500) {
    request.log.error({ err: error }, 'request failed')
    // A 5xx body carries only a code and the request id: no internals leak.
    const status = mapped?.status ?? 500
    return reply
      .code(status)
      .type('application/json')
      .send(
        errorBody(
          request.id,
          status === 503 ? 'unavailable' : 'internal',
          status === 503 ? 'service unavailable' : 'internal error',
        ),
      )
  }
  if (mapped.retryAfter !== undefined)
    void reply.header('Retry-After', String(Math.max(1, Math.ceil(mapped.retryAfter))))
  return reply
    .code(mapped.status)
    .type('application/json')
    .send(errorBody(request.id, mapped.code, mapped.message, mapped.details))
}
