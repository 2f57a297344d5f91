import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { setUpOwner, startPlatform } from './support/platform.js'
import { assertDocumentedError, raw } from './support/raw-http.js'

const REQ_ID = /^req_[A-Za-z0-9]{16}$/

test('what the HTTP parser and the router refuse is answered in the documented error format with a request id', async (t) => {
  const tp = await startPlatform(t, 'sqlite')
  const { token } = await setUpOwner(tp)
  await tp.platform.app.listen({ port: 0, host: '127.0.0.1' })
  const port = (tp.platform.app.server.address() as AddressInfo).port
  const close = 'Connection: close\r\n'
  const auth = `Authorization: Bearer ${token}\r\n`

  // router: malformed percent-encoding, an over-long path parameter (its text is never echoed)
  const badUrl = await raw(port, `GET /v1/projects/%zz HTTP/1.1\r\nHost: api\r\n${auth}${close}\r\n`)
  assertDocumentedError(badUrl, 400, 'invalid_request', REQ_ID)
  assert.ok(!badUrl.body.includes('%zz'))
  const longParam = await raw(
    port,
    `GET /v1/projects/${'p'.repeat(300)} HTTP/1.1\r\nHost: api\r\n${auth}${close}\r\n`,
  )
  assertDocumentedError(longParam, 414, 'uri_too_long', REQ_ID)
  assert.ok(!longParam.body.includes('ppp'))
  // a target over 8 KiB that still fits the head, and one that does not
  const longUrl = await raw(
    port,
    `GET /v1/health?x=${'a'.repeat(9_000)} HTTP/1.1\r\nHost: api\r\n${close}\r\n`,
  )
  assertDocumentedError(longUrl, 414, 'uri_too_long', REQ_ID)
  const hugeUrl = await raw(port, `GET /v1/health?x=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: api\r\n\r\n`)
  assertDocumentedError(hugeUrl, 414, 'uri_too_long', REQ_ID)
  // the parser: headers over the limit, a control byte in a header, garbage, no Host, two Hosts
  const bigHeaders = await raw(
    port,
    `GET /v1/health HTTP/1.1\r\nHost: api\r\nX-A: ${'a'.repeat(20_000)}\r\n\r\n`,
  )
  assertDocumentedError(bigHeaders, 431, 'headers_too_large', REQ_ID)
  const control = await raw(port, 'GET /v1/health HTTP/1.1\r\nHost: api\r\nX-A: a\x01b\r\n\r\n')
  assertDocumentedError(control, 400, 'invalid_request', REQ_ID)
  const garbage = await raw(port, 'GET /v1/health HTTP/9.9\r\n\r\n')
  assertDocumentedError(garbage, 400, 'invalid_request', REQ_ID)
  const noHost = await raw(port, `GET /v1/health HTTP/1.1\r\n${close}\r\n`)
  assertDocumentedError(noHost, 400, 'invalid_request', REQ_ID)
  const twoHosts = await raw(port, `GET /v1/health HTTP/1.1\r\nHost: api\r\nHost: other\r\n${close}\r\n`)
  assertDocumentedError(twoHosts, 400, 'invalid_request', REQ_ID)
  // and a well-formed request still works
  const ok = await raw(port, `GET /v1/health HTTP/1.1\r\nHost: api\r\n${close}\r\n`)
  assert.equal(ok.status, 200)
})

test('a request that arrives while the API closes gets 503 in the documented format', async (t) => {
  const tp = await startPlatform(t, 'sqlite')
  await tp.platform.app.listen({ port: 0, host: '127.0.0.1' })
  const port = (tp.platform.app.server.address() as AddressInfo).port
  // the head is half sent (the connection is busy, so closing does not cut it), then finished during close
  const { connect } = await import('node:net')
  const socket = connect(port, '127.0.0.1')
  socket.on('error', () => {})
  await new Promise((resolve) => socket.once('connect', resolve))
  socket.write('GET /v1/health HTTP/1.1\r\nHost: api\r\n')
  await new Promise((r) => setTimeout(r, 100))
  let data = ''
  socket.setEncoding('latin1')
  socket.on('data', (d: string) => (data += d))
  const closed = tp.platform.app.close()
  await new Promise((r) => setTimeout(r, 50))
  socket.write('\r\n')
  await new Promise((resolve) => socket.once('close', resolve))
  await closed
  const end = data.indexOf('\r\n\r\n')
  assertDocumentedError(
    {
      status: Number(data.slice(9, 12)),
      head: data.slice(0, end),
      body: data.slice(end + 4),
      closedAfterMs: 0,
    },
    503,
    'unavailable',
    REQ_ID,
  )
})
