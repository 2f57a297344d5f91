import assert from 'node:assert/strict'
import { test } from 'node:test'
import { encodeCommand, isRespError, parseReply } from './resp.js'

test('encodeCommand frames every argument as a length-prefixed bulk string', () => {
  assert.equal(
    encodeCommand(['SET', 'k', 'a b\r\n']).toString(),
    '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\na b\r\n\r\n',
  )
})

test('parseReply decodes simple strings, errors, integers, bulk strings, nulls and arrays', () => {
  const buf = Buffer.from('*5\r\n+OK\r\n-NOPERM no\r\n:42\r\n$5\r\nhe\r\nl\r\n$-1\r\n')
  const r = parseReply(buf)
  assert.ok(r)
  assert.deepEqual(r.value, ['OK', { error: 'NOPERM no' }, 42, 'he\r\nl', null])
  assert.equal(r.next, buf.length)
  assert.ok(isRespError((r.value as unknown[])[1] as never))
})

test('parseReply waits for the rest of a reply split across packets', () => {
  assert.equal(parseReply(Buffer.from('$10\r\nhello')), undefined)
  assert.equal(parseReply(Buffer.from('*2\r\n+OK\r\n')), undefined)
})

test('parseReply refuses a type byte RESP2 does not define', () => {
  assert.throws(() => parseReply(Buffer.from('?x\r\n')), /unexpected RESP type/)
})
