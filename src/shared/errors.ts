/**
 * The one error type of Palisade. Domain code throws a subclass; `api/errors.ts` maps `kind` to an HTTP
 * status in one place. Codes are stable (`PAL_<AREA>_<WHAT>`); branch on `code`, never on `message`.
 */
export type ErrorKind =
  | 'invalid'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'unprocessable'
  | 'too_large'
  | 'throttled'
  | 'unavailable'
  | 'internal'

/** A field-level problem reported with `invalid` errors (`details` in the API answer). */
export interface ErrorDetail {
  readonly field: string
  readonly message: string
}

export interface PalisadeErrorOptions {
  readonly cause?: unknown
  readonly details?: readonly ErrorDetail[]
  /** Seconds the caller should wait (throttled). */
  readonly retryAfter?: number
  /** Short snake_case code shown to API clients; defaults to the kind. */
  readonly publicCode?: string
}

export class PalisadeError extends Error {
  readonly code: string
  readonly kind: ErrorKind
  readonly details: readonly ErrorDetail[] | undefined
  readonly retryAfter: number | undefined
  readonly publicCode: string

  constructor(kind: ErrorKind, code: string, message: string, options: PalisadeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.kind = kind
    this.code = code
    this.details = options.details
    this.retryAfter = options.retryAfter
    this.publicCode = options.publicCode ?? kind
  }
}

export class InvalidError extends PalisadeError {
  constructor(code: string, message: string, options?: PalisadeErrorOptions) {
    super('invalid', code, message, { publicCode: 'invalid_request', ...options })
  }
}
export class UnauthenticatedError extends PalisadeError {
  constructor(code: string, message: string, options?: PalisadeErrorOptions) {
    super('unauthenticated', code, message, options)
  }
}
export class ForbiddenError extends PalisadeError {
  constructor(code: string, message: string, options?: PalisadeErrorOptions) {
    super('forbidden', code, message, options)
  }
}
export class NotFoundError extends PalisadeError {
  constructor(code: string, message: string, options?: PalisadeErrorOptions) {
    super('not_found', code, message, options)
  }
}
export class ConflictError extends PalisadeError {
  constructor(code: string, message: string, options?: PalisadeErrorOptions) {
    super('conflict', code, message, options)
  }
}
/** Well-formed but refused by a rule of the domain (HTTP 422). */
export class UnprocessableError extends PalisadeError {
  constructor(code: string, message: string, options?: PalisadeErrorOptions) {
    super('unprocessable', code, message, options)
  }
}
export class TooLargeError extends PalisadeError {
  constructor(code: string, message: string, options?: PalisadeErrorOptions) {
    super('too_large', code, message, options)
  }
}
export class ThrottledError extends PalisadeError {
  constructor(code: string, message: string, options?: PalisadeErrorOptions) {
    super('throttled', code, message, options)
  }
}
export class UnavailableError extends PalisadeError {
  constructor(code: string, message: string, options?: PalisadeErrorOptions) {
    super('unavailable', code, message, options)
  }
}
export class InternalError extends PalisadeError {
  constructor(code: string, message: string, options?: PalisadeErrorOptions) {
    super('internal', code, message, options)
  }
}

export function isPalisadeError(value: unknown): value is PalisadeError {
  return value instanceof PalisadeError
}
