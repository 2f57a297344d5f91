import { pino } from 'pino'
import type { AccessLogEntry, EdgeLogger } from './types.js'

/** The access log's message: part of every line (`"msg":"edge request"`). */
export const ACCESS_LOG_MESSAGE = 'edge request'

export interface AccessLineWriter {
  /** Queues one access-log line for an entry (nothing when the logger's level leaves `info` out). */
  write(entry: AccessLogEntry): void
  /** Hands the queued lines to the logger's destination now (the edge closes, the process exits). */
  flush(): void
}

/** Queued lines are handed over at this size at the latest (else once per turn of the event loop). */
const BATCH_CHARS = 16 * 1024

/** Writers with lines queued: flushed when the process exits (one listener for all of them). */
const open = new Set<AccessLineWriter>()
let exitHook = false

interface PinoInternals {
  isLevelEnabled(level: string): boolean
  [key: symbol]: unknown
}

interface PinoStream {
  write(line: string): unknown
  [key: symbol]: unknown
}

const S = pino.symbols
/** Not in pino's type declarations (a prefix pino puts before every message). */
const MSG_PREFIX = (pino.symbols as unknown as Record<string, symbol>)['msgPrefixSym']

/** Entries that differ in every way the serialization can differ: escapes, nulls, floats, the rule ids. */
const PROBES: readonly AccessLogEntry[] = [
  {
    requestId: '0b4a7c9e-1d2f-4e5a-8b6c-7d8e9f0a1b2c',
    environmentId: 'env_probe',
    workspaceId: 'ws_probe',
    clientIp: '203.0.113.7',
    method: 'POST',
    host: 'probe.example',
    path: '/a?q="x"\\y&password=***',
    protocol: 'https',
    status: 403,
    bytesOut: 1234,
    durationMs: 1.2345678901234,
    outcome: 'waf_block',
    userAgent: 'agent "quoted" \\ é ✓ \u0001 tab\t',
    referer: `https://probe.example/${'r'.repeat(120)}`,
    authorization: 'Basic ***',
    cookie: 'session=***; theme=***',
    ruleIds: ['942100', '949110'],
  },
  {
    requestId: 'id',
    environmentId: null,
    workspaceId: null,
    clientIp: '',
    method: '',
    host: '',
    path: '',
    protocol: 'http',
    status: 0,
    bytesOut: 0,
    durationMs: 0,
    outcome: null,
    userAgent: null,
    referer: null,
    authorization: null,
    cookie: null,
  },
]

/**
 * The access log's writer when `logger` is a plain pino logger: the line pino would write (same bytes: level,
 * time, bindings, the entry's fields in order, the message), built from one `JSON.stringify` of the entry and
 * handed to the logger's destination. Pino's generic serializer (a loop over the keys with a check per value)
 * costs several times what `JSON.stringify` does, once per request.
 *
 * Anything that could make pino's line differ (redaction or serializers touching the entry's keys, a log
 * formatter, a mixin, hooks, a nested key, a message prefix, a multistream) is detected once here: the writer
 * serializes probe entries both ways and answers null (use `logger.info`) unless they agree byte for byte.
 */
export function createAccessLineWriter(logger: EdgeLogger | undefined): AccessLineWriter | null {
  if (!logger || typeof logger !== 'object') return null
  const p = logger as unknown as PinoInternals
  const stream = p[S.streamSym] as PinoStream | undefined
  const asJson = p[S.asJsonSym]
  const timeOf = p[S.timeSym]
  const lsCache = p[S.lsCacheSym] as Record<number, string> | undefined
  const chindings = p[S.chindingsSym]
  const end = p[S.endSym]
  const hooks = p[S.hooksSym] as { logMethod?: unknown; streamWrite?: unknown } | undefined
  if (
    !stream ||
    typeof stream.write !== 'function' ||
    typeof asJson !== 'function' ||
    typeof timeOf !== 'function' ||
    typeof p.isLevelEnabled !== 'function' ||
    typeof lsCache?.[30] !== 'string' ||
    typeof chindings !== 'string' ||
    typeof end !== 'string' ||
    hooks?.logMethod !== undefined ||
    hooks?.streamWrite !== undefined ||
    p[S.mixinSym] !== undefined ||
    (MSG_PREFIX !== undefined && p[MSG_PREFIX] !== undefined) ||
    p[S.messageKeySym] !== 'msg' ||
    stream[S.needsMetadataGsym] === true
  )
    return null
  const head = lsCache[30]
  const tail = `,"msg":${JSON.stringify(ACCESS_LOG_MESSAGE)}${end}`
  const line = (json: string, time: string): string =>
    // `{"a":1}` → `{"level":30,"time":…,"pid":…,"hostname":…,"a":1,"msg":"edge request"}\n`
    `${head}${time}${chindings}${json.length > 2 ? `,${json.slice(1, -1)}` : ''}${tail}`
  for (const probe of PROBES) {
    let expected: unknown
    try {
      expected = asJson.call(logger, probe, ACCESS_LOG_MESSAGE, 30, ',"time":0')
    } catch {
      return null
    }
    if (expected !== line(JSON.stringify(probe), ',"time":0')) return null
  }
  // Lines of one turn of the event loop go to the destination as one string: pino's sonic-boom appends each
  // write to its pending string and measures that string's byte length every time (a copy of up to 16 KiB per
  // line, more than building the line costs).
  let queued: string[] = []
  let chars = 0
  let scheduled: NodeJS.Immediate | null = null
  const flush = (): void => {
    if (scheduled !== null) clearImmediate(scheduled)
    scheduled = null
    open.delete(writer)
    if (queued.length === 0) return
    const batch = queued.length === 1 ? (queued[0] as string) : queued.join('')
    queued = []
    chars = 0
    stream.write(batch)
  }
  const writer: AccessLineWriter = {
    write(entry) {
      if (!p.isLevelEnabled('info')) return
      const text = line(JSON.stringify(entry), (timeOf as () => string)())
      queued.push(text)
      chars += text.length
      if (chars >= BATCH_CHARS) flush()
      else if (scheduled === null) {
        scheduled = setImmediate(flush)
        open.add(writer)
      }
    },
    flush,
  }
  if (!exitHook) {
    exitHook = true
    // Before a destination's own exit flush (an edge worker's `flushSync`), registered later than this.
    process.on('exit', () => {
      for (const w of open) w.flush()
    })
  }
  return writer
}
