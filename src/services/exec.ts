import { spawn, type ChildProcess, type ChildProcessByStdio } from 'node:child_process'
import { createReadStream, createWriteStream } from 'node:fs'
import type { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'

/**
 * Wraps argv so that it runs in the environment's sandbox (the deploy driver's): its uid/gid, its network
 * namespace, and a mount namespace showing the system read-only and only the environment's services
 * directory (at its host path) writable. `daemon`: a server that outlives the call (not killed with the
 * control plane's child); otherwise the process dies with its parent.
 */
export type ServiceSandbox = (
  argv: readonly string[],
  opts: { readonly cwd: string; readonly daemon: boolean },
) => string[]

/**
 * Who services run as: the environment's own user and, under isolation, its sandbox. Null: the control
 * plane's own user (no isolation, not root).
 */
export interface RunAs {
  readonly uid: number
  readonly gid: number
  /** Present under isolation: every service process (server, client, tool) runs through it. */
  readonly sandbox?: ServiceSandbox | null
}

export interface SpawnServiceOptions {
  readonly runAs?: RunAs | null
  readonly env?: Readonly<Record<string, string>>
  readonly cwd?: string
  /** A long-running server: its own process group, not tied to the control plane's lifetime. */
  readonly daemon?: boolean
  /**
   * An argv prefix run as root that puts itself into the service's cgroup and then execs the rest (the
   * deploy driver's `serviceLauncher`): the sandbox and the server are born inside their limits.
   */
  readonly launcher?: readonly string[] | null
}

/**
 * The one place service processes are started. Sandboxed: root starts the sandbox, which drops to the
 * environment's uid/gid before anything of the engine runs; the engine sees only its services directory,
 * so nothing it does (a symlink planted by a compromised server) can steer a root operation.
 */
export function spawnService(
  argv: readonly string[],
  opts: SpawnServiceOptions = {},
): ChildProcessByStdio<Writable, Readable, Readable> {
  return spawnWith(argv, opts, ['pipe', 'pipe', 'pipe']) as ChildProcessByStdio<Writable, Readable, Readable>
}

/**
 * A server whose stdout and stderr are `outputFd` (an append-only file that outlives the control plane:
 * docs/crash-safety.md). Its stdio[3] is a pipe it inherits and never uses: it closes when the last process
 * holding it (the server, inside its sandbox) is gone, so 'close' still tells when the server has ended.
 */
export function spawnServer(
  argv: readonly string[],
  outputFd: number,
  opts: SpawnServiceOptions = {},
): ChildProcess {
  return spawnWith(argv, opts, ['pipe', outputFd, outputFd, 'pipe'])
}

function spawnWith(
  argv: readonly string[],
  opts: SpawnServiceOptions,
  stdio: readonly ('pipe' | number)[],
): ChildProcess {
  const sandbox = opts.runAs?.sandbox
  const cwd = opts.cwd ?? '/'
  const launcher = opts.launcher ?? []
  // Without a sandbox but with a launcher (root, cgroups), setpriv drops to the environment's user after it.
  const dropIds =
    opts.runAs && !sandbox && launcher.length > 0
      ? ['/usr/bin/setpriv', `--reuid=${opts.runAs.uid}`, `--regid=${opts.runAs.gid}`, '--clear-groups', '--']
      : []
  const inner = sandbox ? sandbox(argv, { cwd, daemon: opts.daemon === true }) : [...dropIds, ...argv]
  const [file, ...args] = [...launcher, ...inner]
  const ids =
    opts.runAs && !sandbox && launcher.length === 0 ? { uid: opts.runAs.uid, gid: opts.runAs.gid } : {}
  return spawn(file as string, args, {
    shell: false,
    stdio: [...stdio],
    env: cleanEnv(opts.env),
    cwd: sandbox ? '/' : cwd,
    detached: opts.daemon === true,
    ...ids,
  })
}

export interface ExecOptions {
  readonly runAs?: RunAs | null
  readonly env?: Readonly<Record<string, string>>
  readonly input?: string
  readonly cwd?: string
  /** Kill after this many ms (default 120 s). */
  readonly timeoutMs?: number
}

export interface ExecResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

/**
 * The environment of every process services start. Never the control plane's own: it holds the master key.
 */
export function cleanEnv(extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  return { PATH: SYSTEM_PATH, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', ...extra }
}

/** Runs argv (no shell) to completion and collects its output (capped at 1 MiB each). */
export function exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve) => {
    const child = spawnService(argv, opts)
    let stdout = ''
    let stderr = ''
    const cap = 1 << 20
    child.stdout.setEncoding('utf8').on('data', (t: string) => stdout.length < cap && (stdout += t))
    child.stderr.setEncoding('utf8').on('data', (t: string) => stderr.length < cap && (stderr += t))
    child.stdin.on('error', () => undefined)
    child.stdin.end(opts.input ?? '')
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000)
    child.on('error', (e) => {
      clearTimeout(timer)
      resolve({ code: null, stdout, stderr: stderr + e.message })
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/** Like exec, but a non-zero exit throws with the tail of stderr (which never holds passwords: they go by env or stdin). */
export async function mustExec(argv: readonly string[], opts: ExecOptions = {}): Promise<string> {
  const r = await exec(argv, opts)
  if (r.code !== 0)
    throw new Error(`${argv[0]} exited with ${r.code}: ${(r.stderr || r.stdout).trim().slice(-800)}`)
  return r.stdout
}

/**
 * Runs argv with stdout written to `outFile` and/or stdin read from `inFile` (streamed: dumps can be
 * gigabytes). Non-zero exit throws with the tail of stderr.
 */
export function execStreaming(
  argv: readonly string[],
  files: { readonly outFile?: string; readonly inFile?: string; readonly prefix?: string },
  opts: ExecOptions = {},
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawnService(argv, opts)
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr = (stderr + t).slice(-4000)))
    const out = files.outFile ? createWriteStream(files.outFile, { mode: 0o600 }) : null
    const done = Promise.all([
      out ? pipeline(child.stdout, out) : new Promise<void>((r) => child.stdout.resume().on('end', r)),
      (async () => {
        child.stdin.on('error', () => undefined)
        if (files.prefix) child.stdin.write(files.prefix)
        if (files.inFile) await pipeline(createReadStream(files.inFile), child.stdin)
        else child.stdin.end()
      })(),
    ])
    // Read once the process has closed; a stream failing before that (the process could not open its file
    // and left early) would otherwise be an unhandled rejection, which ends the control plane.
    done.catch(() => undefined)
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 3_600_000)
    child.on('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      done.then(
        () =>
          code === 0
            ? resolve()
            : reject(new Error(`${argv[0]} exited with ${code}: ${stderr.trim().slice(-800)}`)),
        (e: unknown) =>
          reject(
            code === 0 && e instanceof Error
              ? e
              : new Error(`${argv[0]} exited with ${code}: ${stderr.trim().slice(-800)}`, { cause: e }),
          ),
      )
    })
  })
}
