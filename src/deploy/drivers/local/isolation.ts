import { spawn } from 'node:child_process'
import { chmodSync, existsSync, lstatSync, readdirSync, statSync } from 'node:fs'
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
 * Environment users must traverse `<data>` and `<data>/envs` to reach their own directory, and
 * `<data>/runtimes/node` to run their pinned Node.js: those become 0711 (enter, not list). Everything else directly in `<data>` is made private to the control
 * plane (0600 files, 0700 directories) so that the database, keys and logs stay out of reach.
 */
export function hardenDataDir(dataDir: string, warn?: (message: string) => void): void {
  // Every parent must let others pass (x), or no environment user could reach its own release.
  for (let dir = path.dirname(path.resolve(dataDir)); ; dir = path.dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) {
      throw new Error(
        `environment users cannot reach the data dir: ${dir} is not traversable by others (chmod o+x ${dir}, or choose another PALISADE_DATA_DIR)`,
      )
    }
    if (dir === path.dirname(dir)) break
  }
  const envs = path.join(dataDir, 'envs')
  // Pinned Node.js installs (read-only, public software) are run by every environment user.
  const runtimes = path.join(dataDir, 'runtimes')
  chmodSync(dataDir, 0o711)
  for (const dir of [envs, runtimes, path.join(runtimes, 'node')]) if (existsSync(dir)) chmodSync(dir, 0o711)
  for (const name of readdirSync(dataDir)) {
    const p = path.join(dataDir, name)
    if (p === envs || p === runtimes) continue
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
