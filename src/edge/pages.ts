import type { ServerResponse } from 'node:http'

export interface PageText {
  readonly title: string
  readonly code: string
  readonly message: string
}

/** Every page the edge answers by itself. None of them echoes the request (no host, no path): no reflection, no tenant leak. */
export const PAGES = {
  400: {
    title: 'Bad request',
    code: 'PAL_EDGE_BAD_REQUEST',
    message: 'The request could not be understood.',
  },
  401: {
    title: 'Authentication required',
    code: 'PAL_EDGE_AUTH_REQUIRED',
    message: 'This site is password protected.',
  },
  403: {
    title: 'Forbidden',
    code: 'PAL_EDGE_FORBIDDEN',
    message: 'Access to this site is not allowed from your address.',
  },
  404: { title: 'Not found', code: 'PAL_EDGE_UNKNOWN_HOST', message: 'No site is served at this address.' },
  405: { title: 'Method not allowed', code: 'PAL_EDGE_METHOD', message: 'This method is not allowed here.' },
  408: {
    title: 'Request timeout',
    code: 'PAL_EDGE_REQUEST_TIMEOUT',
    message: 'The request did not arrive in time.',
  },
  413: {
    title: 'Request too large',
    code: 'PAL_EDGE_BODY_TOO_LARGE',
    message: 'The request body is too large.',
  },
  414: {
    title: 'URI too long',
    code: 'PAL_EDGE_URI_TOO_LONG',
    message: 'The request target is too long.',
  },
  421: {
    title: 'Misdirected request',
    code: 'PAL_EDGE_MISDIRECTED',
    message: 'The TLS name does not match the host.',
  },
  431: {
    title: 'Request header fields too large',
    code: 'PAL_EDGE_HEADERS_TOO_LARGE',
    message: 'The request headers are too large.',
  },
  429: { title: 'Too many requests', code: 'PAL_EDGE_THROTTLED', message: 'Too many requests; retry later.' },
  502: { title: 'Bad gateway', code: 'PAL_EDGE_UPSTREAM_ERROR', message: 'The application did not answer.' },
  503: { title: 'Unavailable', code: 'PAL_EDGE_MAINTENANCE', message: 'This site is down for maintenance.' },
  504: {
    title: 'Gateway timeout',
    code: 'PAL_EDGE_UPSTREAM_TIMEOUT',
    message: 'The application took too long to answer.',
  },
} as const satisfies Record<number, PageText>

export const WAF_BLOCK_PAGE: PageText = {
  title: 'Request blocked',
  code: 'PAL_EDGE_WAF_BLOCKED',
  message: 'This request was blocked by the web application firewall.',
}
export const NOT_DEPLOYED_PAGE: PageText = {
  title: 'Unavailable',
  code: 'PAL_EDGE_NOT_DEPLOYED',
  message: 'Nothing is deployed here yet.',
}
export const WAF_UNAVAILABLE_PAGE: PageText = {
  title: 'Unavailable',
  code: 'PAL_EDGE_WAF_UNAVAILABLE',
  message: 'The request could not be inspected; try again.',
}

export const TOO_MANY_CONNECTIONS_PAGE: PageText = {
  title: 'Too many connections',
  code: 'PAL_EDGE_TOO_MANY_CONNECTIONS',
  message: 'Too many open connections from your address; retry later.',
}

/**
 * The documented error (`{"error":{"code","message","requestId"}}`) as a whole HTTP/1.1 response, for a raw
 * socket that has no ServerResponse: parser failures, header timeouts, refused connections.
 */
export function rawErrorResponse(
  status: number,
  page: PageText,
  requestId: string,
  extraHeaders: Record<string, string> = {},
): string {
  const body = JSON.stringify({ error: { code: page.code, message: page.message, requestId } })
  let head = `HTTP/1.1 ${status} ${page.title}\r\n`
  const headers: Record<string, string> = {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    'X-Request-Id': requestId,
    Connection: 'close',
    ...extraHeaders,
  }
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`
  return `${head}\r\n${body}`
}

/** Browsers (which ask for text/html) get a page; every other client gets the documented JSON error. */
function wantsJson(accept: string | undefined): boolean {
  return !accept?.includes('text/html')
}

/**
 * Renders an edge error as the documented JSON (`{"error":{"code","message","requestId"}}`), or as an HTML
 * page with the same code and request id for a browser. Returns the body length.
 */
export function sendPage(
  res: ServerResponse,
  status: number,
  page: PageText,
  requestId: string,
  accept: string | undefined,
  extraHeaders: Record<string, string> = {},
  head = false,
): number {
  let body: string
  let type: string
  if (wantsJson(accept)) {
    type = 'application/json; charset=utf-8'
    body = JSON.stringify({ error: { code: page.code, message: page.message, requestId } })
  } else {
    type = 'text/html; charset=utf-8'
    body =
      `<!doctype html><html><head><meta charset="utf-8"><title>${status} ${page.title}</title></head>` +
      `<body><h1>${page.title}</h1><p>${page.message}</p>` +
      `<p><small>Error <code>${page.code}</code>, request id <code>${requestId}</code></small></p></body></html>\n`
  }
  const length = Buffer.byteLength(body)
  res.writeHead(status, {
    'content-type': type,
    'content-length': String(length),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'x-request-id': requestId,
    ...extraHeaders,
  })
  res.end(head ? undefined : body)
  return length
}
