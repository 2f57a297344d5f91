import type { AccessLogEntry } from './types.js'

/** One access-log line as `palisade logs` shows it (already masked by the edge). */
export interface AccessLine {
  readonly at: string
  readonly requestId: string
  readonly clientIp: string
  readonly method: string
  readonly host: string
  readonly path: string
  readonly status: number
  readonly durationMs: number
  readonly bytesOut: number
  readonly outcome: string | null
  readonly userAgent: string | null
}

/**
 * The compact form in which an edge worker hands a request's log line to the control plane (for `palisade logs`):
 * `<environmentId>\t<at ms>\t<requestId>\t<clientIp>\t<method>\t<host>\t<path>\t<status>\t<durationMs>\t<bytesOut>\t<outcome>\t<userAgent>`,
 * tabs and line breaks inside a field replaced by a space, `-` for null in the last two. Tab-separated instead of
 * JSON: the control plane keeps the string as it came and reads it only when someone asks for the line (a JSON
 * line per request, parsed on arrival, was a quarter of the edge's CPU per request: BENCHMARKS.md, monitoring).
 */
export function encodeAccessLine(environmentId: string, entry: AccessLogEntry, at: number): string {
  return (
    `${field(environmentId)}\t${at}\t${field(entry.requestId)}\t${field(entry.clientIp)}\t${field(entry.method)}\t` +
    `${field(entry.host)}\t${field(entry.path)}\t${entry.status}\t${Math.round(entry.durationMs * 1000) / 1000}\t` +
    `${entry.bytesOut}\t${nullable(entry.outcome)}\t${nullable(entry.userAgent)}`
  )
}

/** The environment a line belongs to, without reading the rest of it. */
export function accessLineEnvironment(line: string): string {
  const tab = line.indexOf('\t')
  return tab === -1 ? '' : line.slice(0, tab)
}

/** The line as the logs API shows it, or null when it is not a line `encodeAccessLine` wrote. */
export function decodeAccessLine(line: string): AccessLine | null {
  const f = line.split('\t')
  if (f.length !== 12) return null
  const at = Number(f[1])
  const status = Number(f[7])
  const durationMs = Number(f[8])
  const bytesOut = Number(f[9])
  if (![at, status, durationMs, bytesOut].every(Number.isFinite)) return null
  return {
    at: new Date(at).toISOString(),
    requestId: f[2] as string,
    clientIp: f[3] as string,
    method: f[4] as string,
    host: f[5] as string,
    path: f[6] as string,
    status,
    durationMs,
    bytesOut,
    outcome: f[10] === '-' ? null : (f[10] as string),
    userAgent: f[11] === '-' ? null : (f[11] as string),
  }
}

const SEPARATOR = /[\t\r\n]/
const SEPARATORS = /[\t\r\n]/g

function field(value: string): string {
  // A request line and header values cannot hold a line break, but a path can hold a decoded tab: never split.
  return SEPARATOR.test(value) ? value.replace(SEPARATORS, ' ') : value
}

function nullable(value: string | null): string {
  if (value === null) return '-'
  // "-" itself stays distinguishable from null.
  return value === '-' ? '- ' : field(value)
}
