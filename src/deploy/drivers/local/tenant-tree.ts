import { spawn, type ChildProcess } from 'node:child_process'
import { chmodSync, existsSync, lchownSync, lstatSync, mkdirSync, rmdirSync, rmSync } from 'node:fs'
import path from 'node:path'
import { PassThrough, type Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { assertTenantLeaf, type TenantFiles } from '../../../shared/tenant-files.js'
import type { Identity } from './identities.js'
import type { Mount } from './sandbox.js'

/**
 * Root-owned directories of an environment: the tenant can replace none of their entries. `services`
 * is 0711 (service processes, outside the app sandbox, reach their own directory through it).
 */
const ROOT_OWNED = ['releases', 'shared', 'builds', 'services'] as const
const WORK_DIR = '/work'

export interface TenantTreeDeps {
  readonly isolate: boolean
  readonly envDirOf: (environmentId: string) => string
  readonly identityOf: (environmentId: string) => Identity | null
  /** Runs argv in the environment's sandbox with `mounts` (no network of its own needed). */
  readonly spawnTool: (
    environmentId: string,
    argv: readonly string[],
    mounts: readonly Mount[],
    cwd: string,
  ) => ChildProcess
}

function finished(child: ChildProcess, what: string): Promise<void> {
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (t: string) => (stderr = (stderr + t).slice(-2000)))
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code, signal) =>
      code === 0
        ? resolve()
        : reject(new Error(`${what} failed (${code ?? signal ?? '?'}): ${stderr.trim().slice(-500)}`)),
    )
  })
}

/**
 * A real directory that is not a symlink, owned by root when `rootOwned`. Anything else in a place only
 * root can write means the tree was tampered with by hand or by an older version: refuse, never follow.
 */
function checkDir(p: string, rootOwned: boolean): void {
  const st = lstatSync(p)
  if (st.isSymbolicLink() || !st.isDirectory()) throw new Error(`${p} is not a plain directory`)
  if (rootOwned && st.uid !== 0) throw new Error(`${p} is not owned by root`)
}

/**
 * The environment directory's layout and the only code that touches what the tenant can write
 * (docs/isolation.md). `<env>` and `releases/`, `shared/`, `builds/` are root-owned (0700): the tenant
 * can neither see nor replace their entries. The leaves — `home`, `shared/<dir>`, `builds/<n>`,
 * `services/<id>` — belong to the environment's user; below them the platform acts only as that user,
 * in its sandbox, through tar and find.
 */
export function createTenantTree(deps: TenantTreeDeps) {
  const leafPath = (environmentId: string, rel: string): string =>
    path.join(deps.envDirOf(environmentId), assertTenantLeaf(rel))

  function layout(envDir: string, identity: Identity | null): void {
    mkdirSync(envDir, { recursive: true, mode: 0o700 })
    if (identity === null) {
      for (const d of [...ROOT_OWNED, 'home']) mkdirSync(path.join(envDir, d), { recursive: true })
      return
    }
    for (const dir of [envDir, ...ROOT_OWNED.map((d) => path.join(envDir, d))]) {
      if (!existsSync(dir)) mkdirSync(dir, { mode: 0o700 })
      const st = lstatSync(dir)
      if (st.isSymbolicLink() || !st.isDirectory()) throw new Error(`${dir} is not a plain directory`)
      // An environment laid out by an earlier version was the tenant's: take the directory itself back.
      if (st.uid !== 0 || st.gid !== 0) lchownSync(dir, 0, 0)
      // `services` is mounted at its own path into the environment's sandboxes, where its servers must
      // pass through it to their own directories; nothing else here is entered by the environment's user.
      chmodSync(dir, dir.endsWith(`${path.sep}services`) ? 0o711 : 0o700)
    }
  }

  function tool(
    environmentId: string,
    rel: string,
    argv: readonly string[],
    writable: boolean,
  ): ChildProcess {
    return deps.spawnTool(
      environmentId,
      argv,
      [{ source: leafPath(environmentId, rel), target: WORK_DIR, writable }],
      WORK_DIR,
    )
  }

  /** Empties the leaf as the environment's user (write bits restored first: the tenant may have removed them). */
  async function empty(environmentId: string, rel: string): Promise<void> {
    const child = tool(
      environmentId,
      rel,
      ['/bin/sh', '-c', `chmod -R u+rwX ${WORK_DIR} 2>/dev/null; find ${WORK_DIR} -mindepth 1 -delete`],
      true,
    )
    child.stdin?.end()
    child.stdout?.resume()
    await finished(child, 'emptying a tenant directory')
  }

  const files: TenantFiles = {
    async makeDir(environmentId, rel) {
      const envDir = deps.envDirOf(environmentId)
      const id = deps.identityOf(environmentId)
      const parts = assertTenantLeaf(rel).split('/')
      let current = envDir
      for (const [i, part] of parts.entries()) {
        current = path.join(current, part)
        const leaf = i === parts.length - 1
        if (!existsSync(current)) {
          mkdirSync(current, { mode: leaf ? 0o700 : 0o711 })
          if (leaf && id) lchownSync(current, id.uid, id.gid)
          continue
        }
        // Parents were made by root in root-owned directories; a leaf is the tenant's own.
        checkDir(current, id !== null && !leaf)
        if (leaf && id) {
          const st = lstatSync(current)
          if (st.uid !== id.uid || st.gid !== id.gid) lchownSync(current, id.uid, id.gid)
        }
      }
    },

    pack(environmentId, rel) {
      const argv = ['tar', '-C', WORK_DIR, '--numeric-owner', '-cf', '-', '.']
      const child = deps.identityOf(environmentId)
        ? tool(environmentId, rel, argv, false)
        : spawn('tar', ['-C', leafPath(environmentId, rel), '--numeric-owner', '-cf', '-', '.'], {
            stdio: ['ignore', 'pipe', 'pipe'],
          })
      child.stdin?.end()
      // Read at once: Node drops a child's unread output when it exits.
      const stream = (child.stdout as Readable).pipe(new PassThrough())
      return { stream, done: finished(child, 'packing a tenant directory') }
    },

    async unpack(environmentId, rel, input) {
      await files.makeDir(environmentId, rel)
      if (!deps.identityOf(environmentId)) {
        const dir = leafPath(environmentId, rel)
        rmSync(dir, { recursive: true, force: true })
        mkdirSync(dir, { recursive: true })
        const child = spawn('tar', ['-C', dir, '--ignore-zeros', '-xf', '-'], {
          stdio: ['pipe', 'ignore', 'pipe'],
        })
        await Promise.all([
          pipeline(input, child.stdin as NodeJS.WritableStream),
          finished(child, 'unpacking'),
        ])
        return
      }
      await empty(environmentId, rel)
      // --ignore-zeros: read to the end of the stream, so that the writer never meets a closed pipe.
      const child = tool(
        environmentId,
        rel,
        ['tar', '-C', WORK_DIR, '--no-same-owner', '--ignore-zeros', '-xf', '-'],
        true,
      )
      child.stdout?.resume()
      await Promise.all([
        pipeline(input, child.stdin as NodeJS.WritableStream),
        finished(child, 'unpacking into a tenant directory'),
      ])
    },

    async remove(environmentId, rel) {
      const dir = leafPath(environmentId, rel)
      if (!existsSync(dir)) return
      if (!deps.identityOf(environmentId)) {
        rmSync(dir, { recursive: true, force: true })
        return
      }
      // The leaf itself cannot be swapped (its parent is root's); what is inside is emptied by its owner.
      checkDir(dir, false)
      for (let attempt = 0; ; attempt++) {
        await empty(environmentId, rel)
        try {
          rmdirSync(dir)
          return
        } catch (err) {
          // A running app may have written again in between: try again, a few times.
          if (attempt >= 3) throw err
        }
      }
    },
  }

  return { layout, files, leafPath }
}

export type TenantTree = ReturnType<typeof createTenantTree>
