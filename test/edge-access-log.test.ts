import assert from 'node:assert/strict'
import { PassThrough } from 'node:stream'
import { test } from 'node:test'
import { pino } from 'pino'
import type { AccessLogEntry } from '../src/edge/index.js'
import { createAccessLineWriter } from '../src/edge/access-log-writer.js'
import { send, startEdge, startUpstream, testRoute } from '../src/edge/testing.js'
import { createLogger, REDACTED_PATHS } from '../src/shared/log.js'

function proxyTo(port: number) {
  return testRoute({
    environmentId: 'env_log',
    hosts: ['log.localhost'],
    target: { kind: 'proxy', upstream: { host: '127.0.0.1', port } },
  })
}

function capture(): { stream: PassThrough; lines: () => string[] } {
  const stream = new PassThrough()
  let text = ''
  stream.on('data', (c: Buffer) => (text += c.toString('utf8')))
  return { stream, lines: () => text.split('\n').filter((l) => l !== '') }
}

/** Lets the edge's queued access lines (one write per event-loop turn) reach the stream. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 50))

test('the access log writes the same line pino writes for the entry, and onAccessLog gets every entry', async (t) => {
  const app = await startUpstream('app')
  const out = capture()
  const logger = createLogger({ level: 'info', destination: out.stream })
  assert.notEqual(createAccessLineWriter(logger), null, "createLogger's logger takes the direct path")
  const seen: { entry: AccessLogEntry }[] = []
  const e = await startEdge({ logger, onAccessLog: (entry) => seen.push({ entry }) })
  t.after(() => Promise.all([app.close(), e.stop()]))
  e.edge.routes.upsert(proxyTo(app.port))

  const ok = await send(e.httpPort, {
    host: 'log.localhost',
    path: '/search?q="quoted"\\slash&password=hunter2',
    headers: { cookie: 'session=abc; theme=dark', 'user-agent': 'agent "x" é' },
  })
  assert.equal(ok.status, 200)
  const unknown = await send(e.httpPort, { host: 'nobody.localhost' })
  assert.equal(unknown.status, 404)
  await settle()

  const lines = out.lines()
  assert.equal(lines.length, 2)
  assert.equal(seen.length, 2)
  for (const [i, line] of lines.entries()) {
    const { entry } = seen[i] as { entry: AccessLogEntry }
    // What pino itself writes for this entry at this line's time: byte for byte the same.
    const time = /"time":(\d+)/.exec(line)?.[1]
    const reference = capture()
    const pinoLine = pino(
      {
        // createLogger's own options
        redact: { paths: REDACTED_PATHS, censor: '[masked]' },
        timestamp: () => `,"time":${time}`,
      },
      reference.stream,
    )
    pinoLine.info(entry, 'edge request')
    await settle()
    assert.equal(line, reference.lines()[0])
  }
  const first = JSON.parse(lines[0] as string) as Record<string, unknown>
  assert.equal(first['msg'], 'edge request')
  assert.equal(first['level'], 30)
  assert.equal(first['path'], '/search?q="quoted"\\slash&password=***')
  assert.equal(first['cookie'], 'session=***; theme=***')
  assert.equal(first['requestId'], ok.headers['x-request-id'])
  assert.equal(JSON.parse(lines[1] as string)['outcome'], 'unknown_host')
})

test('a logger whose redaction names an access-log field keeps redacting it (pino writes the line)', async (t) => {
  const app = await startUpstream('app')
  const out = capture()
  const logger = pino({ redact: { paths: ['cookie', 'clientIp'], censor: '[hidden]' } }, out.stream)
  assert.equal(createAccessLineWriter(logger), null)
  const e = await startEdge({ logger })
  t.after(() => Promise.all([app.close(), e.stop()]))
  e.edge.routes.upsert(proxyTo(app.port))

  await send(e.httpPort, { host: 'log.localhost', headers: { cookie: 'session=abc' } })
  await settle()
  const line = JSON.parse(out.lines()[0] as string) as Record<string, unknown>
  assert.equal(line['cookie'], '[hidden]')
  assert.equal(line['clientIp'], '[hidden]')
})

test('the access line is written without an onAccessLog callback too', async (t) => {
  const app = await startUpstream('app')
  const out = capture()
  const e = await startEdge({ logger: createLogger({ level: 'info', destination: out.stream }) })
  t.after(() => Promise.all([app.close(), e.stop()]))
  e.edge.routes.upsert(proxyTo(app.port))

  assert.equal((await send(e.httpPort, { host: 'log.localhost', path: '/x' })).status, 200)
  await settle()
  assert.equal(out.lines().length, 1)
  assert.equal((JSON.parse(out.lines()[0] as string) as { path: string }).path, '/x')
})

test('no access line is written below the logger level, and onAccessLog still gets every entry', async (t) => {
  const app = await startUpstream('app')
  const out = capture()
  const entries: AccessLogEntry[] = []
  const e = await startEdge({
    logger: createLogger({ level: 'warn', destination: out.stream }),
    onAccessLog: (entry) => entries.push(entry),
  })
  t.after(() => Promise.all([app.close(), e.stop()]))
  e.edge.routes.upsert(proxyTo(app.port))

  for (let i = 0; i < 3; i++) assert.equal((await send(e.httpPort, { host: 'log.localhost' })).status, 200)
  await settle()
  assert.deepEqual(out.lines(), [])
  assert.equal(entries.length, 3)
})

test('a logger that is not pino (or has a mixin, a message prefix or a log formatter) gets the entry through info', () => {
  const sink = new PassThrough()
  assert.equal(createAccessLineWriter({ info() {}, warn() {}, error() {} }), null)
  assert.equal(createAccessLineWriter(undefined), null)
  assert.equal(createAccessLineWriter(pino({ mixin: () => ({ a: 1 }) }, sink)), null)
  assert.equal(createAccessLineWriter(pino({ msgPrefix: '[edge] ' }, sink)), null)
  assert.equal(createAccessLineWriter(pino({ formatters: { log: (o) => ({ ...o, extra: 1 }) } }, sink)), null)
  assert.equal(createAccessLineWriter(pino({ nestedKey: 'payload' }, sink)), null)
  assert.notEqual(createAccessLineWriter(pino({}, sink)), null)
  assert.notEqual(createAccessLineWriter(pino({}, sink).child({ worker: 1 })), null)
})
