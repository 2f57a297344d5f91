import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { AccessLogEntry } from '../types.js'
import { parseAccessLines } from './protocol.js'

const entry = (requestId: string, path: string): AccessLogEntry => ({
  requestId,
  environmentId: 'env_a',
  workspaceId: 'ws_a',
  clientIp: '192.0.2.1',
  method: 'GET',
  host: 'a.localhost',
  path,
  protocol: 'http',
  status: 200,
  bytesOut: 12,
  durationMs: 0.5,
  outcome: null,
  userAgent: 'agent\nwith a newline',
  referer: null,
  authorization: null,
  cookie: null,
})

test('access lines round-trip through one string, newlines inside values included', () => {
  const entries = [entry('r1', '/a'), entry('r2', '/b?x="q"'), entry('r3', '/\u00e9')]
  const lines = entries.map((e) => JSON.stringify(e)).join('\n')
  assert.deepEqual(parseAccessLines(lines), entries)
})

test('no access lines is the empty string', () => {
  assert.deepEqual(parseAccessLines(''), [])
})

test('a torn line is an error, not a half entry', () => {
  assert.throws(() => parseAccessLines(`${JSON.stringify(entry('r1', '/a'))}\n{"requestId":`))
})
