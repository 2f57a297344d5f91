import { createHash } from 'node:crypto'
import {
  chownSync,
  createReadStream,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
} from 'node:fs'
import path from 'node:path'
import { Transform, type Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import * as tar from 'tar'

/** Entry types a frozen tree may hold: no devices, FIFOs or sockets. */
const ALLOWED_TYPES = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory', 'SymbolicLink', 'Link'])

export interface FreezeOptions {
  /** The group that may read the tree (the environment's); the owner is root. Null: no sandbox, keep the current user's. */
  readonly gid: number | null
  /** Largest archive accepted (bytes). */
  readonly maxBytes: number
  /** Most entries accepted. */
  readonly maxEntries: number
  /** Keep symbolic links (default true); false leaves them out. */
  readonly links?: boolean
}

export class FreezeError extends Error {}

/**
 * Extracts a tar stream made by tenant code into `target`, a new root-owned directory the tenant cannot
 * write: entries owned by root with the environment's group, no write bits for group or others, no
 * set-id bits, no absolute paths, no `..`, no extraction through a symlink (node-tar's guards), and no
 * special files. Built in `<target>.partial` and renamed into place, so a half-extracted tree is never seen.
 * Returns the SHA-256 of the stream as received.
 */
export async function freezeTree(input: Readable, target: string, options: FreezeOptions): Promise<string> {
  const partial = `${target}.partial`
  rmSync(partial, { recursive: true, force: true })
  mkdirSync(partial, { mode: 0o750 })
  if (options.gid !== null) chownSync(partial, 0, options.gid)
  const hash = createHash('sha256')
  let bytes = 0
  let entries = 0
  const state: { refused: string | null } = { refused: null }
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length
      if (bytes > options.maxBytes)
        return done(new FreezeError(`the build output exceeds ${options.maxBytes} bytes`))
      hash.update(chunk)
      done(null, chunk)
    },
  })
  const extract = tar.x({
    cwd: partial,
    ...(options.gid === null ? {} : { uid: 0, gid: options.gid }),
    preservePaths: false,
    unlink: true,
    strict: false,
    umask: 0o027,
    filter: (p, entry) => {
      entries++
      if (entries > options.maxEntries) state.refused ??= `more than ${options.maxEntries} files`
      const e = entry as tar.ReadEntry
      if (!ALLOWED_TYPES.has(e.type)) return false
      if (options.links === false && (e.type === 'SymbolicLink' || e.type === 'Link')) return false
      // No set-id or sticky bits, no write for anyone but the (root) owner.
      if (typeof e.mode === 'number') e.mode = e.mode & 0o755
      return state.refused === null && p.length < 4096
    },
  })
  try {
    await pipeline(input, meter, extract)
  } catch (err) {
    rmSync(partial, { recursive: true, force: true })
    throw err instanceof FreezeError
      ? err
      : new FreezeError(
          `the build output could not be unpacked: ${err instanceof Error ? err.message : 'error'}`,
        )
  }
  if (state.refused !== null) {
    rmSync(partial, { recursive: true, force: true })
    throw new FreezeError(`the build output was refused: ${state.refused}`)
  }
  rmSync(target, { recursive: true, force: true })
  renameSync(partial, target)
  return hash.digest('hex')
}

/**
 * A digest of a tree as it is on disk: every entry's relative path, type, mode, and content (files) or
 * link text (symlinks), in a fixed order, never following a link. Two trees with the same digest hold
 * the same files; a frozen release whose digest changed has been tampered with.
 */
export async function digestTree(root: string): Promise<string> {
  const hash = createHash('sha256')
  const walk = async (rel: string): Promise<void> => {
    const abs = path.join(root, rel)
    const names = readdirSync(abs).sort()
    for (const name of names) {
      const r = rel === '' ? name : `${rel}/${name}`
      const p = path.join(root, r)
      const st = lstatSync(p)
      const mode = (st.mode & 0o7777).toString(8)
      if (st.isSymbolicLink()) hash.update(`L ${r} ${mode} ${readlinkSync(p)}\n`)
      else if (st.isDirectory()) {
        hash.update(`D ${r} ${mode}\n`)
        await walk(r)
      } else if (st.isFile()) {
        hash.update(`F ${r} ${mode} ${st.size}\n`)
        for await (const chunk of createReadStream(p)) hash.update(chunk as Buffer)
      } else hash.update(`? ${r} ${mode}\n`)
    }
  }
  if (!existsSync(root)) throw new Error(`${root} does not exist`)
  await walk('')
  return hash.digest('hex')
}
