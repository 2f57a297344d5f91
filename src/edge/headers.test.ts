import assert from 'node:assert/strict'
import { test } from 'node:test'
import { forwardRequestHeaders, forwardResponseHeaders } from './headers.js'

test('request hop-by-hop headers, those named in Connection and Proxy-* are dropped', () => {
  const out = forwardRequestHeaders(
    [
      'Host',
      'a',
      'Connection',
      'close, X-Secret-Hop',
      'X-Secret-Hop',
      '1',
      'TE',
      'trailers',
      'Proxy-Foo',
      'x',
      'Transfer-Encoding',
      'chunked',
      'Content-Length',
      '5',
      'Accept',
      '*/*',
    ],
    false,
    false,
  )
  assert.deepEqual(out, ['Host', 'a', 'Accept', '*/*'])
})

test('client-supplied forwarding headers are dropped unless the peer is trusted', () => {
  const raw = [
    'X-Forwarded-For',
    '1.1.1.1',
    'X-Forwarded-Host',
    'h',
    'Forwarded',
    'for=1.1.1.1',
    'X-Request-Id',
    'r',
  ]
  assert.deepEqual(forwardRequestHeaders(raw, false, false), [])
  assert.deepEqual(forwardRequestHeaders(raw, true, false), [
    'X-Forwarded-Host',
    'h',
    'Forwarded',
    'for=1.1.1.1',
  ])
})

test('a WebSocket handshake keeps Upgrade and gets Connection: upgrade', () => {
  const out = forwardRequestHeaders(
    ['Upgrade', 'websocket', 'Connection', 'Upgrade', 'Sec-WebSocket-Key', 'k'],
    false,
    true,
  )
  assert.deepEqual(out, ['Upgrade', 'websocket', 'Sec-WebSocket-Key', 'k', 'Connection', 'upgrade'])
})

test('response hop-by-hop headers are dropped and repeated headers kept', () => {
  const out = forwardResponseHeaders([
    'Set-Cookie',
    'a=1',
    'Keep-Alive',
    't',
    'Set-Cookie',
    'b=2',
    'Transfer-Encoding',
    'chunked',
  ])
  assert.deepEqual(out, ['Set-Cookie', 'a=1', 'Set-Cookie', 'b=2'])
})
