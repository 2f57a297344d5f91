import { spawn } from 'node:child_process'
import { chmodSync, existsSync, lstatSync, readdirSync } from 'node:fs'
import path from 'node:path'

/** Runs argv (no shell) and collects its output; settles once the output is complete ('close', not 'exit'). */
export function exec(argv: readonly string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], shell: false })
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (t: string) => (out += t))
    child.stderr.setEncoding('utf8').on('data', (t: string) => (out += t))
    child.on('error', (e) => resolve({ code: null, out: e.message }))
    child.on('close', (code) => resolve({ code, out }))
  })
}

async function must(argv: readonly string[]): Promise<string> {
  const r = await exec(argv)
  if (r.code !== 0) throw new Error(`${argv.slice(0, 3).join(' ')} failed: ${r.out.trim().slice(0, 500)}`)
  return r.out
}

/** A network namespace holding only a loopback interface (no route out, no route to other environments). */
export async function ensureNamespace(name: string): Promise<void> {
  if (!existsSync(`/run/netns/${name}`)) {
    const r = await exec(['ip', 'netns', 'add', name])
    // Two preparations of one environment may race; either made it.
    if (r.code !== 0 && !existsSync(`/run/netns/${name}`))
      throw new Error(`ip netns add failed: ${r.out.trim()}`)
  }
  await must(['ip', '-n', name, 'link', 'set', 'lo', 'up'])
}

export async function removeNamespace(name: string): Promise<void> {
  await exec(['ip', 'netns', 'delete', name])
}

/**
 * Removes what an environment's sandbox left on the host without a driver at hand (tests, benchmarks):
 * both network namespaces, the user and the group.
 */
export async function removeSandbox(name: string): Promise<void> {
  await removeNamespace(name)
  await removeNamespace(`${name}-b`)
  await exec(['userdel', '--', name])
  await exec(['groupdel', '--', name])
}

/**
 * Makes everything directly in `<data>` private to the control plane: 0700 directories (the data dir
 * itself and `envs` included) and 0600 files, so that the database, keys and logs stay out of reach. No
 * environment user needs to pass through: every tenant process (app, build, job, service) sees its
 * directories through mounts root makes for its sandbox. The one exception is `runtimes` (public
 * software, mounted read-only into sandboxes at its own path, where its mode is what the tenant meets):
 * 0711, enter but not list.
 */
export function hardenDataDir(dataDir: string, warn?: (message: string) => void): void {
  chmodSync(dataDir, 0o700)
  const runtimes = path.join(dataDir, 'runtimes')
  for (const dir of [runtimes, path.join(runtimes, 'node')]) if (existsSync(dir)) chmodSync(dir, 0o711)
  for (const name of readdirSync(dataDir)) {
    const p = path.join(dataDir, name)
    if (p === runtimes) continue
    const st = lstatSync(p)
    if (st.isSymbolicLink()) continue
    const mode = st.mode & 0o777
    const want = st.isDirectory() ? mode & 0o700 : mode & 0o600
    if (mode !== want) {
      chmodSync(p, want)
      warn?.(`made ${p} private to the control plane (mode ${mode.toString(8)} → ${want.toString(8)})`)
    }
  }
}
