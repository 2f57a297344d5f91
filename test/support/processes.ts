import { spawn, type ChildProcess } from 'node:child_process'
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { createServer } from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { TestContext } from 'node:test'

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const CLI_SOURCE = path.join(REPO, 'src/cli/main.ts')
const CLI_BUILT = path.join(REPO, 'dist/cli/main.js')

/**
 * The newest modification time (ms) of a file under `dir` (recursively) that the build compiles or copies:
 * not unit tests or their data (tsconfig.build.json leaves them out), 0 for none.
 */
function newestBuiltUnder(dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name)
    if (entry.isDirectory()) {
      if (entry.name !== 'testdata') newest = Math.max(newest, newestBuiltUnder(p))
    } else if (entry.isFile() && !/\.test\.ts$|^test-helpers\.ts$/.test(entry.name))
      newest = Math.max(newest, statSync(p).mtimeMs)
  }
  return newest
}

let chosenEntry: readonly string[] | null = null

/**
 * How tests start the `palisade` CLI (and `palisade serve`): node's arguments before the CLI's own.
 *
 * The compiled `dist/cli/main.js` (built by `npm ci`'s prepare script and `npm run build`) when it is newer
 * than every file under src/: it starts in about a third of the time tsx takes to compile src/ on each start
 * (the serve supervisor, its control plane and every edge worker each load the code once), which is most of a
 * crash test's time. Otherwise the sources through tsx, so that a developer who edits src/ and runs one test
 * tests the edit without a build. `PALISADE_TEST_CLI=source` forces the sources; `PALISADE_TEST_CLI=dist`
 * forces the build and fails when it is missing or older than src/ (CI: a stale build is a setup error).
 */
export function cliEntry(): readonly string[] {
  if (chosenEntry) return chosenEntry
  const wanted = process.env['PALISADE_TEST_CLI'] ?? 'auto'
  if (!['auto', 'dist', 'source'].includes(wanted))
    throw new Error(`PALISADE_TEST_CLI must be auto, dist or source, not ${wanted}`)
  let built = 0
  try {
    built = statSync(CLI_BUILT).mtimeMs
  } catch {
    // not built
  }
  const fresh = built > 0 && built >= newestBuiltUnder(path.join(REPO, 'src'))
  if (wanted === 'dist' && !fresh)
    throw new Error(
      `PALISADE_TEST_CLI=dist but ${CLI_BUILT} is ${built === 0 ? 'missing' : 'older than a file under src/'}: run \`npm run build\``,
    )
  chosenEntry = Object.freeze(wanted === 'source' || !fresh ? ['--import', 'tsx', CLI_SOURCE] : [CLI_BUILT])
  return chosenEntry
}

/** A free loopback port (the tiny race with other processes is acceptable in tests). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port
      srv.close(() => resolve(port))
    })
  })
}

export interface RunResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs the CLI (the build when it is up to date, else the sources: `cliEntry`). */
export function runCli(args: string[], env: Record<string, string>, input?: string): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...cliEntry(), ...args], {
      cwd: REPO,
      env: { PATH: process.env['PATH'] ?? '', HOME: env['HOME'] ?? '/nonexistent', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.stdin.end(input ?? '')
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }))
  })
}

export interface ServerProcess {
  readonly apiUrl: string
  readonly port: number
  readonly child: ChildProcess
  output(): string
  stop(): Promise<void>
}

/** The servers each test started, so a directory they write to is removed only after they stopped. */
const serversOf = new WeakMap<TestContext, ServerProcess[]>()

/**
 * Removes `dir` at the end of the test, after every server the test started through `startServer` has
 * stopped (hooks run in the order they were added, and this one is usually added before the server starts;
 * a running server's supervisor keeps writing its worker status into its data dir).
 */
export function removeAfterServers(t: TestContext, dir: string): void {
  t.after(async () => {
    for (const server of serversOf.get(t) ?? []) await server.stop()
    rmSync(dir, { recursive: true, force: true })
  })
}

/**
 * Starts `palisade serve` as a real process (the build when it is up to date: `cliEntry`) and waits until
 * /v1/health answers; a server that does not start is stopped before this throws.
 */
export async function spawnServer(env: Record<string, string>, fixedPort?: number): Promise<ServerProcess> {
  const port = fixedPort ?? (await freePort())
  const child = spawn(process.execPath, [...cliEntry(), 'serve', '--api-listen', `127.0.0.1:${port}`], {
    cwd: REPO,
    // Runtime pinning off unless a test asks: tours deploy on the host's node, with no registry download.
    env: {
      PATH: process.env['PATH'] ?? '',
      PALISADE_LOG_LEVEL: 'warn',
      PALISADE_RUNTIME_PINNING: 'off',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()))
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()))
  const apiUrl = `http://127.0.0.1:${port}`
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      if (child.exitCode !== null) return resolve()
      child.once('exit', () => resolve())
      child.kill('SIGTERM')
    })
  // Generous: `palisade serve` starts a supervisor, a control plane and edge workers (slow on a loaded machine;
  // a tsx compile of the whole server alone can take longer than 20 s).
  const deadline = Date.now() + 120_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited early: ${output}`)
    try {
      const res = await fetch(`${apiUrl}/v1/health`)
      if (res.ok) break
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`server did not start: ${output}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  return { apiUrl, port, child, output: () => output, stop }
}

/** `spawnServer`, stopped at the end of the test (and before `removeAfterServers` removes its directory). */
export async function startServer(
  t: TestContext,
  env: Record<string, string>,
  fixedPort?: number,
): Promise<ServerProcess> {
  const server = await spawnServer(env, fixedPort)
  t.after(() => server.stop())
  serversOf.set(t, [...(serversOf.get(t) ?? []), server])
  return server
}

export const TOUR_OWNER = {
  email: 'owner@example.com',
  password: 'correct horse battery staple 42',
  workspace: 'acme',
}

export interface CliTour {
  /** Temp directory of the tour (removed at the end); the data dir and HOME are inside. */
  readonly dir: string
  readonly dataDir: string
  readonly server: ServerProcess
  /** Environment for runCli: HOME (holding the owner's stored credentials), API URL, data dir. */
  readonly env: {
    readonly HOME: string
    readonly PALISADE_API_URL: string
    readonly PALISADE_DATA_DIR: string
  }
}

/**
 * The start of every CLI tour: a real `palisade serve` on a fresh data dir (edge on free ports) and
 * `palisade setup` of the owner and the `acme` workspace through the CLI. `traversable` lets environment
 * users (isolation as root) pass through the temp dir to their releases.
 */
export async function startCliTour(
  t: TestContext,
  serverEnv: Record<string, string> = {},
  options: { traversable?: boolean } = {},
): Promise<CliTour> {
  const dir = mkdtempSync(path.join(tmpdir(), 'palisade-tour-'))
  if (options.traversable) chmodSync(dir, 0o711)
  const dataDir = path.join(dir, 'data')
  let server: ServerProcess
  try {
    server = await startServer(t, {
      PALISADE_DATA_DIR: dataDir,
      PALISADE_EDGE_HTTP_LISTEN: '127.0.0.1:0',
      PALISADE_EDGE_HTTPS_LISTEN: '127.0.0.1:0',
      ...serverEnv,
    })
  } catch (err) {
    rmSync(dir, { recursive: true, force: true })
    throw err
  }
  // Removed once the server has stopped: until then its supervisor still writes its worker status there.
  t.after(async () => {
    await server.stop()
    rmSync(dir, { recursive: true, force: true })
  })
  const env = { HOME: path.join(dir, 'home'), PALISADE_API_URL: server.apiUrl, PALISADE_DATA_DIR: dataDir }
  const setup = await runCli(
    ['setup', '--email', TOUR_OWNER.email, '--workspace', TOUR_OWNER.workspace, '--password-stdin'],
    env,
    TOUR_OWNER.password + '\n',
  )
  if (setup.code !== 0) throw new Error(`palisade setup failed: ${setup.stderr}`)
  return { dir, dataDir, server, env }
}
