import assert from 'node:assert/strict'
import { connect } from 'node:net'

export interface RawAnswer {
  readonly status: number
  readonly head: string
  readonly body: string
  /** Milliseconds from connect until the edge closed the connection. */
  readonly closedAfterMs: number
}

/** Writes `chunks` on a fresh TCP connection and reads until the edge closes it. */
export function raw(port: number, chunks: string | string[], timeoutMs = 10_000): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const started = Date.now()
    const socket = connect(port, '127.0.0.1')
    let data = ''
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`no close within ${timeoutMs} ms; got ${JSON.stringify(data.slice(0, 200))}`))
    }, timeoutMs)
    socket.setEncoding('latin1')
    socket.on('data', (d: string) => (data += d))
    socket.on('error', () => {})
    socket.on('close', () => {
      clearTimeout(timer)
      const end = data.indexOf('\r\n\r\n')
      resolve({
        status: Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0),
        head: end === -1 ? data : data.slice(0, end),
        body: end === -1 ? '' : data.slice(end + 4),
        closedAfterMs: Date.now() - started,
      })
    })
    socket.on('connect', () => {
      for (const c of Array.isArray(chunks) ? chunks : [chunks]) socket.write(c)
    })
  })
}

/** The documented error: JSON body with code, message and requestId, and the same id in X-Request-Id. */
export function assertDocumentedError(
  answer: RawAnswer,
  status: number,
  code: string,
  requestIdPattern: RegExp = /^[0-9a-f-]{36}$/,
): void {
  assert.equal(answer.status, status, answer.head)
  const parsed = JSON.parse(answer.body) as { error: { code: string; message: string; requestId: string } }
  assert.equal(parsed.error.code, code)
  assert.ok(parsed.error.message.length > 0)
  assert.match(parsed.error.requestId, requestIdPattern)
  assert.match(answer.head, new RegExp(`\\r\\nX-Request-Id: ${parsed.error.requestId}\\r\\n`, 'i'))
}
