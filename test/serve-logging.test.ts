import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { test } from 'node:test'
import { createLogger, formatLogLine } from '../src/shared/log.js'
import { setUpOwner, startPlatform } from './support/platform.js'

function capture(): { stream: Writable; lines: () => string[] } {
  const chunks: string[] = []
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString())
      cb()
    },
  })
  return { stream, lines: () => chunks.join('').split('\n').filter(Boolean) }
}

test('on a terminal the log is readable lines, not JSON, with secrets still masked', () => {
  const c = capture()
  const log = createLogger({ level: 'info', destination: c.stream, format: 'text' })
  log.info(
    { environmentId: 'env_1', body: { password: 'hunter2hunter2' } },
    'deployment 2 of main.shop.acme.localhost succeeded',
  )
  const [line] = c.lines()
  assert.match(
    line ?? '',
    /^\d\d:\d\d:\d\d INFO {2}deployment 2 of main\.shop\.acme\.localhost succeeded {2}environmentId=env_1/,
  )
  assert.doesNotMatch(line ?? '', /hunter2|^\{/)
  assert.equal(formatLogLine('not json'), 'not json')
})

test('the API logs one line per call: successful reads at debug, changes at info', async (t) => {
  const c = capture()
  const tp = await startPlatform(
    t,
    'sqlite',
    {},
    { logger: createLogger({ level: 'info', destination: c.stream }) },
  )
  const { token } = await setUpOwner(tp)
  const before = c.lines().length
  assert.equal((await tp.call('GET', '/v1/workspaces', { token })).statusCode, 200)
  assert.equal(c.lines().length, before, 'a successful read writes nothing at info')
  const created = await tp.call('POST', '/v1/workspaces/acme/projects', {
    token,
    body: { name: 'shop', repository: 'https://git.example.com/shop.git' },
  })
  assert.equal(created.statusCode, 201, created.body)
  const added = c
    .lines()
    .slice(before)
    .map((l) => JSON.parse(l) as { msg: string; status?: number })
  assert.deepEqual(
    added.map((l) => [l.msg, l.status]),
    [['POST /v1/workspaces/acme/projects', 201]],
  )
})
