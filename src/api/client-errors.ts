import type { Socket } from 'node:net'
import { randomToken } from '../shared/ids.js'
import { errorBody } from './errors.js'

/** The longest request target the API reads (8 KiB); a longer one is answered 414. */
export const API_MAX_URL_BYTES = 8 * 1024

/** A new request id for an answer given before Fastify made a request (same shape as `genReqId`'s). */
export function newRequestId(): string {
  return `req_${randomToken(16)}`
}

const ANSWERS = {
  400: { title: 'Bad Request', code: 'invalid_request', message: 'the request could not be parsed' },
  408: { title: 'Request Timeout', code: 'request_timeout', message: 'the request did not arrive in time' },
  414: { title: 'URI Too Long', code: 'uri_too_long', message: 'the request target is too long' },
  431: {
    title: 'Request Header Fields Too Large',
    code: 'headers_too_large',
    message: 'the request headers are too large',
  },
} as const

/**
 * Answers what Node's HTTP parser refused (bad bytes, control characters in a header, a head over the limit,
 * a header timeout) in the documented error format with a request id, instead of Fastify's own body.
 * Installed as Fastify's `clientErrorHandler`.
 */
export function answerClientError(
  error: Error & { code?: string; rawPacket?: unknown },
  socket: Socket,
): void {
  if (error.code === 'ECONNRESET' || socket.destroyed || !socket.writable) {
    socket.destroy()
    return
  }
  let status: keyof typeof ANSWERS = 400
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') status = 408
  else if (error.code === 'HPE_HEADER_OVERFLOW')
    status = isLongRequestLine(
      Buffer.isBuffer(error.rawPacket) ? error.rawPacket : undefined,
      API_MAX_URL_BYTES,
    )
      ? 414
      : 431
  const answer = ANSWERS[status]
  const requestId = newRequestId()
  const body = JSON.stringify(errorBody(requestId, answer.code, answer.message))
  socket.end(
    `HTTP/1.1 ${status} ${answer.title}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Cache-Control: no-store\r\n' +
      'X-Content-Type-Options: nosniff\r\n' +
      `X-Request-Id: ${requestId}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  )
}

/** Whether the packet the parser choked on starts with a request line longer than `max` (414, not 431). */
function isLongRequestLine(raw: Buffer | undefined, max: number): boolean {
  if (!raw || !/^[A-Z]{1,16} [^ ]/.test(raw.subarray(0, 20).toString('latin1'))) return false
  const end = raw.indexOf('\n')
  return (end === -1 ? raw.length : end) > max
}
