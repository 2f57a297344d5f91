import { InvalidError } from '../shared/errors.js'

/** Every error code the edge raises (a test checks they are unique). Traffic never throws: these are set-up errors. */
export const EDGE_ERROR_CODES = [
  'PAL_EDGE_LISTEN_INVALID',
  'PAL_EDGE_ROUTE_INVALID',
  'PAL_EDGE_HOST_TAKEN',
  'PAL_EDGE_CIDR_INVALID',
  'PAL_EDGE_ACME_OFF',
] as const

export type EdgeErrorCode = (typeof EDGE_ERROR_CODES)[number]

export class EdgeConfigError extends InvalidError {
  constructor(code: EdgeErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
  }
}
