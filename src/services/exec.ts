import { spawn } from 'node:child_process'
import { createReadStream, createWriteStream } from 'node:fs'
import { pipeline } from 'node:stream/promises'

/** A system user services run as (the environment's own user under isolation). Null: the control plane's user. */
export interface RunAs {
  readonly uid: number
  readonly gid: number
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
    const ids = opts.runAs ? { uid: opts.runAs.uid, gid: opts.runAs.gid } : {}
    const child = spawn(argv[0] as string, argv.slice(1), {
      shell: false,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: cleanEnv(opts.env),
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
      ...ids,
    })
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
    const ids = opts.runAs ? { uid: opts.runAs.uid, gid: opts.runAs.gid } : {}
    const child = spawn(argv[0] as string, argv.slice(1), {
      shell: false,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: cleanEnv(opts.env),
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
      ...ids,
    })
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
