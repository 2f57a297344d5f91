import { chownSync, lstatSync, mkdirSync, rmdirSync, unlinkSync } from 'node:fs'
import path from 'node:path'
import type { Instance } from './engines/engine.js'
import { execStreaming, mustExec } from './exec.js'

/**
 * Files inside a service instance's directory. The directory belongs to the environment's user, and the
 * server running there is tenant-reachable code: anything in it may be a link planted to steer a root
 * write, read, chown or recursive delete. So every read and write below the directory runs as the
 * environment's user in its sandbox (`runAs`); root only creates and removes the directory itself, in
 * the root-owned `services` parent where nobody else can replace it.
 */

const SUBDIRS = ['data', 'tmp', 'files'] as const

const asService = (inst: Instance): { runAs: Instance['runAs']; cwd: string } => ({
  runAs: inst.runAs,
  cwd: inst.dir,
})

/** Writes `content` (mode 0600) to `file`, a path inside the instance directory. */
export async function writeInstanceFile(inst: Instance, file: string, content: string): Promise<void> {
  await mustExec(['/bin/sh', '-c', 'umask 077 && cat > "$1"', 'sh', file], {
    ...asService(inst),
    input: content,
  })
}

/** Copies the host file `from` (readable by the control plane) to `file` inside the instance directory. */
export function copyIntoInstance(inst: Instance, from: string, file: string): Promise<void> {
  return execStreaming(
    ['/bin/sh', '-c', 'umask 077 && cat > "$1"', 'sh', file],
    { inFile: from },
    asService(inst),
  )
}

/** Copies `file` from inside the instance directory to the host file `to` (written by the control plane). */
export function copyOutOfInstance(inst: Instance, file: string, to: string): Promise<void> {
  return execStreaming(['cat', '--', file], { outFile: to }, asService(inst))
}

/** Removes paths inside the instance directory (recursively; missing ones are fine). */
export async function removeInInstance(inst: Instance, ...files: string[]): Promise<void> {
  await mustExec(['rm', '-rf', '--', ...files], asService(inst))
}

/** Root-owned, mode 0711: the environment's user may pass through, never add, rename or remove. */
export function ensureServicesParent(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o711 })
  const st = lstatSync(dir)
  if (!st.isDirectory() || (process.getuid?.() === 0 && st.uid !== 0))
    throw new Error(`${dir} is not a root-owned directory`)
}

/** Removes the instance directory and everything in it (contents by the service's user, the directory by root). */
export async function removeInstanceDir(inst: Instance): Promise<void> {
  let st
  try {
    st = lstatSync(inst.dir)
  } catch {
    return
  }
  if (!st.isDirectory()) {
    unlinkSync(inst.dir)
    return
  }
  await mustExec(
    ['/bin/sh', '-c', 'chmod -R u+rwX . 2>/dev/null; find . -mindepth 1 -delete'],
    asService(inst),
  )
  rmdirSync(inst.dir)
}

/** An empty instance directory owned by the service's user, with its `data`, `tmp` and `files`. */
export async function freshInstanceDir(inst: Instance): Promise<void> {
  ensureServicesParent(path.dirname(inst.dir))
  await removeInstanceDir(inst)
  mkdirSync(inst.dir, { mode: 0o700 })
  if (inst.runAs) chownSync(inst.dir, inst.runAs.uid, inst.runAs.gid)
  await mustExec(['mkdir', '-m', '700', '--', ...SUBDIRS], asService(inst))
}
