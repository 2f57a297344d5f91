import type { ServerResponse } from 'node:http'

interface PageText {
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
  413: {
    title: 'Request too large',
    code: 'PAL_EDGE_BODY_TOO_LARGE',
    message: 'The request body is too large.',
  },
  421: {
    title: 'Misdirected request',
    code: 'PAL_EDGE_MISDIRECTED',
    message: 'The TLS name does not match the host.',
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

function wantsJson(accept: string | undefined): boolean {
  if (!accept) return false
  return accept.includes('application/json') && !accept.includes('text/html')
}

/** Renders an edge page as HTML, or JSON when the client asks for JSON only. Returns the body length. */
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
      `<p><small>Request id: <code>${requestId}</code></small></p></body></html>\n`
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
