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

export function createLogger(options: { level: string; destination?: NodeJS.WritableStream }): Logger {
  return pino(
    { level: options.level, redact: { paths: REDACTED_PATHS, censor: '[masked]' } },
    options.destination ?? process.stderr,
  )
}
