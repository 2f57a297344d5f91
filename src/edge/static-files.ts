import { createReadStream } from 'node:fs'
import { realpath, stat } from 'node:fs/promises'
import { extname, join, sep } from 'node:path'

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.xml': 'application/xml; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.pdf': 'application/pdf',
}

export function contentTypeFor(path: string): string {
  return TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream'
}

export type StaticResolution =
  | { readonly kind: 'file'; readonly path: string; readonly size: number; readonly mtime: Date }
  | { readonly kind: 'not_found' }
  | { readonly kind: 'bad_request' }

/**
 * Maps a request path to a file under `root`, or not_found.
 *
 * Threat: path traversal (`/../`, `%2e%2e%2f`, encoded NUL, backslashes, symlinks pointing out of the
 * release). The path is decoded once, rejected when it holds NUL or backslash or a `..` segment, and the
 * final file's real path must still lie under the root's real path.
 */
export async function resolveStatic(root: string, rawPath: string): Promise<StaticResolution> {
  const q = rawPath.indexOf('?')
  const encoded = q === -1 ? rawPath : rawPath.slice(0, q)
  let decoded: string
  try {
    decoded = decodeURIComponent(encoded)
  } catch {
    return { kind: 'bad_request' }
  }
  if (!decoded.startsWith('/') || decoded.includes('\0') || decoded.includes('\\'))
    return { kind: 'bad_request' }
  const segments = decoded.split('/').filter((s) => s !== '' && s !== '.')
  if (segments.some((s) => s === '..')) return { kind: 'bad_request' }
  // Dot files (.env, .git) are never served from a release.
  if (segments.some((s) => s.startsWith('.') && s !== '.well-known')) return { kind: 'not_found' }

  let realRoot: string
  try {
    realRoot = await realpath(root)
  } catch {
    return { kind: 'not_found' }
  }
  let candidate = join(realRoot, ...segments)
  try {
    let info = await stat(candidate)
    if (info.isDirectory()) {
      candidate = join(candidate, 'index.html')
      info = await stat(candidate)
    }
    if (!info.isFile()) return { kind: 'not_found' }
    const real = await realpath(candidate)
    if (real !== realRoot && !real.startsWith(realRoot + sep)) return { kind: 'not_found' }
    return { kind: 'file', path: real, size: info.size, mtime: info.mtime }
  } catch {
    return { kind: 'not_found' }
  }
}

export function openStatic(path: string): NodeJS.ReadableStream {
  return createReadStream(path)
}
