import { pino, type Logger } from 'pino'

export type { Logger }

/** Paths whose values never reach a log line (tokens, passwords, cookies, secrets). */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-palisade-token"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.token',
  '*.secret',
  '*.totp',
  '*.currentPassword',
  '*.newPassword',
]

/**
 * A pino logger. `format: 'text'` (what `palisade serve` uses on a terminal) prints one readable line per
 * event — `12:00:01 INFO  deployment 2 succeeded  env=env_… release=2` — instead of JSON lines, which stay
 * the format for files and log collectors. Redaction applies to both.
 */
export function createLogger(options: {
  level: string
  destination?: NodeJS.WritableStream
  format?: 'json' | 'text'
}): Logger {
  const out = options.destination ?? process.stderr
  return pino(
    { level: options.level, redact: { paths: REDACTED_PATHS, censor: '[masked]' } },
    options.format === 'text' ? textStream(out) : out,
  )
}

/**
 * A logger for lines written on a hot path (the edge's access log, one line per request): JSON lines gathered
 * in memory and written to stderr asynchronously, at least 4 KiB at a time, instead of one blocking write per
 * line. On a terminal it is the ordinary readable logger (a person reads it; few lines). `flush` writes out
 * what is held (call it before the process exits).
 */
export function createBufferedLogger(options: { level: string; format?: 'json' | 'text' }): {
  logger: Logger
  flush: () => void
} {
  if (options.format === 'text') return { logger: createLogger(options), flush: () => undefined }
  const destination = pino.destination({ fd: 2, sync: false, minLength: 4096 })
  const logger = pino(
    { level: options.level, redact: { paths: REDACTED_PATHS, censor: '[masked]' } },
    destination,
  )
  return {
    logger,
    flush: () => {
      try {
        destination.flushSync()
      } catch {
        // nothing written yet (the destination opens lazily), or stderr is gone
      }
    },
  }
}

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
}
const NOT_SHOWN = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'v'])

/** One pino JSON line as text: time, level, message, then the other fields as key=value. */
export function formatLogLine(json: string): string {
  let o: Record<string, unknown>
  try {
    o = JSON.parse(json) as Record<string, unknown>
  } catch {
    return json
  }
  const t = typeof o['time'] === 'number' ? new Date(o['time']).toISOString().slice(11, 19) : ''
  const level = LEVELS[Number(o['level'])] ?? String(o['level'])
  const fields = Object.entries(o)
    .filter(([k]) => !NOT_SHOWN.has(k))
    .map(([k, v]) => {
      if (k === 'err' && v && typeof v === 'object')
        return `err=${JSON.stringify((v as { message?: unknown }).message ?? v)}`
      return `${k}=${typeof v === 'string' ? (/\s/.test(v) ? JSON.stringify(v) : v) : JSON.stringify(v)}`
    })
  return `${t} ${level.padEnd(5)} ${typeof o['msg'] === 'string' ? o['msg'] : ''}${fields.length > 0 ? '  ' + fields.join(' ') : ''}`
}

function textStream(out: NodeJS.WritableStream): { write(line: string): void } {
  return {
    write(chunk: string) {
      for (const line of chunk.split('\n')) if (line !== '') out.write(formatLogLine(line) + '\n')
    },
  }
}
