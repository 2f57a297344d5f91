import { spawn } from 'node:child_process'
import { PassThrough, type Readable } from 'node:stream'

/**
 * The only way the platform touches an environment's tenant-writable directories (docs/isolation.md).
 *
 * Threat: tenant code (app, build, job) owns those directories and can replace any entry in them with a
 * symlink at any moment; a root process that opens, copies, renames, chowns or removes through them can
 * be made to act on the platform's own files or another tenant's. So the platform never does: every
 * operation below the tenant's leaf directories runs as the environment's user in its sandbox (where no
 * other file of the host is visible), and data crosses as a tar stream.
 *
 * `rel` names a leaf relative to the environment directory: `shared/<persistent dir>`, `home`,
 * `builds/<n>`, or `services/<id>`; every parent of a leaf is root-owned.
 */
export interface TenantFiles {
  /** Creates the leaf (and its root-owned parents) owned by the environment's user; idempotent. */
  makeDir(environmentId: string, rel: string): Promise<void>
  /** A tar stream of the leaf's contents, made by the environment's user; `done` settles when it exits. */
  pack(environmentId: string, rel: string): { stream: Readable; done: Promise<void> }
  /** Replaces the leaf's contents with the tar stream's, extracted by the environment's user. */
  unpack(environmentId: string, rel: string, input: Readable): Promise<void>
  /** Removes the leaf and everything in it. */
  remove(environmentId: string, rel: string): Promise<void>
}

const LEAF_RE =
  /^(?:home|builds\/\d{1,9}|services\/[A-Za-z0-9_-]{1,64}|shared\/[A-Za-z0-9._-]{1,128}(?:\/[A-Za-z0-9._-]{1,128}){0,15})$/

/** Throws unless `rel` names a tenant leaf (no `..`, no `.`, no absolute path). */
export function assertTenantLeaf(rel: string): string {
  if (!LEAF_RE.test(rel) || rel.split('/').some((p) => p === '.' || p === '..'))
    throw new Error(`not a tenant directory: ${rel}`)
  return rel
}

/**
 * A tar of a root-owned tree the tenant cannot write (a frozen release, a backup's staging), links
 * archived as links and never followed, for a tenant directory to unpack.
 */
export function packRootTree(dir: string): Readable {
  const child = spawn('tar', ['-C', dir, '--numeric-owner', '-cf', '-', '.'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  })
  const out = new PassThrough()
  // Read at once (Node drops a child's unread output when it exits); a failed tar fails the stream.
  child.stdout.pipe(out, { end: false })
  child.on('close', (code) =>
    code === 0 ? out.end() : out.destroy(new Error(`tar exited with ${code ?? '?'}`)),
  )
  return out
}
