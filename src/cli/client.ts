import { randomBytes } from 'node:crypto'
import {
  chmodSync,
  createReadStream,
  existsSync,
  mkdirSync,
  readFileSync,
  statSync,
  writeFileSync,
  rmSync,
} from 'node:fs'
import { homedir } from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { cliEnvironment, type CliEnvironment } from '../config/index.js'
import { UsageError } from './resolve.js'

export const DEFAULT_API_URL = 'http://127.0.0.1:8080'

export interface Credentials {
  readonly apiUrl: string
  readonly token: string
  readonly expiresAt?: string
  readonly email?: string
}

/** An API error as the server reported it (DESIGN.md §3 error format). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId: string | undefined,
    readonly details: ReadonlyArray<{ field: string; message: string }> = [],
    /** Seconds to wait before retrying (a 429's Retry-After). */
    readonly retryAfter?: number,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

export function credentialsPath(env: CliEnvironment): string {
  return path.join(env.configHome ?? path.join(homedir(), '.config'), 'palisade', 'credentials.json')
}

export function readCredentials(env: CliEnvironment): Credentials | undefined {
  const file = credentialsPath(env)
  if (!existsSync(file)) return undefined
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Credentials
  } catch {
    return undefined
  }
}

/** Written 0600 inside a 0700 directory: the token is as good as the password. */
export function writeCredentials(env: CliEnvironment, creds: Credentials): string {
  const file = credentialsPath(env)
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 })
  writeFileSync(file, JSON.stringify(creds, null, 2) + '\n', { mode: 0o600 })
  chmodSync(file, 0o600)
  return file
}

export function removeCredentials(env: CliEnvironment): void {
  rmSync(credentialsPath(env), { force: true })
}

export interface ApiClient {
  readonly apiUrl: string
  request<T>(method: string, path: string, body?: unknown): Promise<T>
  /** Raw response for streaming (logs). */
  raw(method: string, path: string, body?: unknown): Promise<Response>
  /**
   * Streams a file as `application/octet-stream` (backup import). Not with a signing key: a signature
   * covers the body's digest, which a streamed upload cannot give up front.
   */
  upload(method: string, path: string, file: string): Promise<Response>
}

/** PALISADE_SIGNING_KEY (hex) with PALISADE_SIGNING_KEY_ID; both or neither. */
function signingKeyOf(env: CliEnvironment): { keyId: string; key: Buffer } | undefined {
  if (env.signingKey === undefined && env.signingKeyId === undefined) return undefined
  if (
    env.signingKey === undefined ||
    env.signingKeyId === undefined ||
    !/^(?:[0-9a-f]{2}){16,128}$/i.test(env.signingKey)
  ) {
    throw new UsageError(
      'PALISADE_SIGNING_KEY (hex, as shown once by `palisade tokens create --signed`) and PALISADE_SIGNING_KEY_ID (the token id) go together',
    )
  }
  return { keyId: env.signingKeyId, key: Buffer.from(env.signingKey, 'hex') }
}

/** PALISADE_API_URL / PALISADE_TOKEN win over the stored credentials. */
export function createClient(
  env: CliEnvironment = cliEnvironment(),
  options: { anonymous?: boolean } = {},
): ApiClient {
  const stored = readCredentials(env)
  const apiUrl = (env.apiUrl ?? stored?.apiUrl ?? DEFAULT_API_URL).replace(/\/+$/, '')
  const token = options.anonymous
    ? undefined
    : (env.token ?? (stored && stored.apiUrl.replace(/\/+$/, '') === apiUrl ? stored.token : undefined))

  const signing = signingKeyOf(env)

  async function raw(method: string, p: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json' }
    if (token) headers['authorization'] = `Bearer ${token}`
    if (body !== undefined) headers['content-type'] = 'application/json'
    const text = body === undefined ? undefined : JSON.stringify(body)
    if (signing) {
      // Loaded only here: iam/ pulls in the store and argon2, which every other CLI command can do without
      // (each `palisade` start, `serve` included, would load them first).
      const { signRequest } = await import('../iam/index.js')
      // RFC 9421 over exactly the bytes sent: method, target URI and the body's Content-Digest.
      Object.assign(
        headers,
        signRequest({
          method,
          url: apiUrl + p,
          ...(text === undefined ? {} : { body: text }),
          keyId: signing.keyId,
          key: signing.key,
          created: Math.floor(Date.now() / 1000),
          nonce: randomBytes(16).toString('hex'),
        }),
      )
    }
    try {
      return await fetch(apiUrl + p, { method, headers, ...(text === undefined ? {} : { body: text }) })
    } catch (error) {
      throw new ApiError(
        0,
        'unreachable',
        `cannot reach the Palisade API at ${apiUrl} (${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message})`,
        undefined,
      )
    }
  }

  async function upload(method: string, p: string, file: string): Promise<Response> {
    if (signing)
      throw new UsageError(
        'uploads cannot be signed: use a session (palisade login) or an unsigned API token',
      )
    const headers: Record<string, string> = {
      accept: 'application/json',
      'content-type': 'application/octet-stream',
      'content-length': String(statSync(file).size),
    }
    if (token) headers['authorization'] = `Bearer ${token}`
    try {
      // Node's fetch streams a ReadableStream body when told `duplex: 'half'`.
      const init: RequestInit & { duplex: 'half' } = {
        method,
        headers,
        body: Readable.toWeb(createReadStream(file)) as ReadableStream<Uint8Array>,
        duplex: 'half',
      }
      return await fetch(apiUrl + p, init)
    } catch (error) {
      throw new ApiError(
        0,
        'unreachable',
        `cannot reach the Palisade API at ${apiUrl} (${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message})`,
        undefined,
      )
    }
  }

  return {
    apiUrl,
    raw,
    upload,
    async request<T>(method: string, p: string, body?: unknown): Promise<T> {
      const res = await raw(method, p, body)
      const text = await res.text()
      const parsed: unknown = text ? safeJson(text) : undefined
      if (!res.ok) {
        const err = (
          parsed as
            | {
                error?: {
                  code?: string
                  message?: string
                  requestId?: string
                  details?: Array<{ field: string; message: string }>
                }
              }
            | undefined
        )?.error
        const retry = Number(res.headers.get('retry-after') ?? NaN)
        throw new ApiError(
          res.status,
          err?.code ?? `http_${res.status}`,
          err?.message ?? (res.statusText || 'request failed'),
          err?.requestId ?? res.headers.get('x-request-id') ?? undefined,
          err?.details ?? [],
          Number.isFinite(retry) && retry >= 0 ? retry : undefined,
        )
      }
      return parsed as T
    },
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}
