/** Where a change came from; recorded in audit events. */
export interface RequestContext {
  readonly requestId: string
  readonly ip: string | null
  readonly userAgent: string | null
}

export const PLATFORM_CONTEXT: RequestContext = Object.freeze({
  requestId: 'platform',
  ip: null,
  userAgent: null,
})
