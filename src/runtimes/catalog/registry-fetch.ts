import { UnavailableError } from '../../shared/errors.js'
import { RUNTIME_ERRORS } from '../errors.js'
import type { FetchJson } from './refresh-node.js'

export interface RegistryFetchOptions {
  /** Answers larger than this are refused (a hostile or broken mirror cannot exhaust memory). Default 16 MiB. */
  readonly maxBytes?: number
  /** Default 30 s. */
  readonly timeoutMs?: number
}

/** A `FetchJson` over HTTPS with a size cap and a timeout, for the npm registry. */
export function createRegistryFetch(options: RegistryFetchOptions = {}): FetchJson {
  const maxBytes = options.maxBytes ?? 16 * 1024 * 1024
  const timeoutMs = options.timeoutMs ?? 30_000
  return async (url) => {
    const res = await fetch(url, {
      headers: { accept: 'application/json' },
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
    })
    if (!res.ok || !res.body)
      throw new UnavailableError(RUNTIME_ERRORS.refreshFailed, `${url} answered ${res.status}`)
    const chunks: Uint8Array[] = []
    let size = 0
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength
      if (size > maxBytes)
        throw new UnavailableError(
          RUNTIME_ERRORS.refreshFailed,
          `${url} answered more than ${maxBytes} bytes`,
        )
      chunks.push(chunk)
    }
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown
  }
}
