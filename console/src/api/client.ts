import createClient, { type Middleware } from 'openapi-fetch'
import type { components, paths } from './schema'

/** The API's error body (DESIGN.md §3): shown to people with its request id. */
export type ApiErrorBody = components['schemas']['Error']['error']

export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly requestId: string | null
  readonly details: ReadonlyArray<{ field: string; message: string }>
  constructor(status: number, body: Partial<ApiErrorBody> | undefined, fallback: string) {
    super(body?.message ?? fallback)
    this.status = status
    this.code = body?.code ?? 'error'
    this.requestId = body?.requestId ?? null
    this.details = (body?.details ?? []) as ReadonlyArray<{ field: string; message: string }>
  }
  /** The message for one field (or one item of a list field: `ipAllow.3`, `ipAllow[3]`), shown next to it. */
  field(name: string): string | undefined {
    const item = (f: string) =>
      f.startsWith(`${name}[`) || new RegExp(`^${escape(name)}\\.\\d+(\\..*)?$`).test(f)
    return this.details.find((d) => d.field === name || d.field.endsWith(`.${name}`) || item(d.field))
      ?.message
  }
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** Told when a request comes back 401 while signed in (the session ended: idle, absolute timeout or revoked). */
let onSessionEnded: () => void = () => undefined
export function setSessionEndedHandler(fn: () => void): void {
  onSessionEnded = fn
}

const sessionWatch: Middleware = {
  onResponse({ request, response }) {
    if (response.status === 401 && !new URL(request.url).pathname.startsWith('/v1/sessions')) onSessionEnded()
    return response
  },
}

/**
 * The typed client over the public API (types generated from /v1/openapi.json). The session is the HttpOnly
 * cookie the browser sends on same-origin requests: no token ever reaches script.
 */
export const api = createClient<paths>({ baseUrl: location.origin, credentials: 'same-origin' })
api.use(sessionWatch)

/** The data of a call, or an ApiError carrying the server's message and request id. */
export async function ok<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<NonNullable<T>> {
  let result: { data?: T; error?: unknown; response: Response }
  try {
    result = await call
  } catch (error) {
    throw new ApiError(0, undefined, `the server could not be reached (${String(error)})`)
  }
  if (result.error !== undefined || !result.response.ok) {
    const body = (result.error as { error?: Partial<ApiErrorBody> } | undefined)?.error
    throw new ApiError(result.response.status, body, `the server answered ${result.response.status}`)
  }
  return result.data as NonNullable<T>
}
