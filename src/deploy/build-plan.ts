import { execFileSync } from 'node:child_process'
import { existsSync, lstatSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import path from 'node:path'

/** What to run to build a release and how to serve it. */
export interface BuildPlan {
  readonly kind: 'process' | 'static'
  /** argv of each build step, run in the release directory. */
  readonly steps: readonly (readonly string[])[]
  /** argv of the web process (process kind). */
  readonly start: readonly string[] | null
  /** Directory the edge serves, relative to the release (static kind). */
  readonly staticRoot: string | null
  /** Lines for the deployment log explaining the choices. */
  readonly notes: readonly string[]
}

export class BuildPlanError extends Error {}

const MAX_MANIFEST = 1024 * 1024

function readSmall(file: string): string | null {
  if (!existsSync(file)) return null
  const st = lstatSync(file)
  // A symlinked manifest could point anywhere on the host: it is ignored.
  if (!st.isFile() || st.size > MAX_MANIFEST) return null
  return readFileSync(file, 'utf8')
}

/** `name: command` lines of a Procfile. */
export function parseProcfile(text: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const line of text.split(/\r?\n/)) {
    const m = /^([A-Za-z0-9_-]+):\s*(.+?)\s*$/.exec(line)
    if (m && !out.has(m[1] as string)) out.set(m[1] as string, m[2] as string)
  }
  return out
}

interface PackageJson {
  scripts?: Record<string, string>
  dependencies?: Record<string, string>
  devDependencies?: Record<string, string>
}

function readPackageJson(dir: string): PackageJson | null {
  const text = readSmall(path.join(dir, 'package.json'))
  if (text === null) return null
  try {
    const v = JSON.parse(text) as unknown
    return v !== null && typeof v === 'object' ? v : null
  } catch {
    throw new BuildPlanError('package.json is not valid JSON')
  }
}

function npmSteps(dir: string, pkg: PackageJson): string[][] {
  const steps: string[][] = []
  const hasLock =
    existsSync(path.join(dir, 'package-lock.json')) || existsSync(path.join(dir, 'npm-shrinkwrap.json'))
  const deps = Object.keys(pkg.dependencies ?? {}).length + Object.keys(pkg.devDependencies ?? {}).length
  if (hasLock) steps.push(['npm', 'ci', '--no-audit', '--no-fund'])
  else if (deps > 0) steps.push(['npm', 'install', '--no-audit', '--no-fund'])
  // `npm run build --if-present`, spelled out so that the log says whether it ran.
  if (typeof pkg.scripts?.['build'] === 'string') steps.push(['npm', 'run', 'build'])
  return steps
}

/**
 * Decides how to build and run a release (DESIGN.md §6): a Procfile `web:` line wins; `node@*` runs
 * `npm ci` (lockfile) or `npm install` (dependencies but no lockfile; skipped when there are none),
 * `npm run build` when present, then `npm start`; `static` is served by the edge (from `public/` when it exists).
 * `pinned` is the exact Node.js version the release runs on (put first on PATH by the driver), when pinned.
 */
export function planBuild(dir: string, runtime: string, pinned: string | null = null): BuildPlan {
  const notes: string[] = []
  const procfileText = readSmall(path.join(dir, 'Procfile'))
  const web = procfileText === null ? undefined : parseProcfile(procfileText).get('web')
  const pkg = readPackageJson(dir)
  const steps = pkg ? npmSteps(dir, pkg) : []
  if (web !== undefined) {
    notes.push(`Procfile web: ${web}`)
    // The Procfile line is the app's own shell command and runs as the app, in its sandbox.
    return { kind: 'process', steps, start: ['/bin/sh', '-c', web], staticRoot: null, notes }
  }
  if (runtime === 'static') {
    const root =
      existsSync(path.join(dir, 'public')) && lstatSync(path.join(dir, 'public')).isDirectory()
        ? 'public'
        : '.'
    notes.push(`static site served by the edge from ${root === '.' ? 'the release root' : 'public/'}`)
    return { kind: 'static', steps, start: null, staticRoot: root, notes }
  }
  if (runtime.startsWith('node@')) {
    if (!pkg) throw new BuildPlanError('a node app needs a package.json (or a Procfile with a web: line)')
    const major = runtime.slice(5).split('.')[0]
    if (pinned !== null) notes.push(`runtime ${runtime}: node ${pinned}, pinned by this release`)
    else if (major !== process.versions.node.split('.')[0])
      notes.push(`warning: runtime ${runtime} requested, this host runs node ${process.versions.node}`)
    const start = pkg.scripts?.['start']
    if (typeof start === 'string') {
      // `node <file>` is started directly: same program, no npm wrapper process (faster start, signals reach the app).
      const direct = /^node\s+([A-Za-z0-9_][A-Za-z0-9._/-]*)$/.exec(start.trim())
      if (direct && !(direct[1] as string).split('/').includes('..')) {
        notes.push(`start script "${start}" runs directly (without npm)`)
        return { kind: 'process', steps, start: ['node', direct[1] as string], staticRoot: null, notes }
      }
      return { kind: 'process', steps, start: ['npm', 'start'], staticRoot: null, notes }
    }
    if (existsSync(path.join(dir, 'server.js')))
      return { kind: 'process', steps, start: ['node', 'server.js'], staticRoot: null, notes }
    throw new BuildPlanError(
      'package.json has no start script and there is no server.js or Procfile web: line',
    )
  }
  if (runtime.startsWith('php@')) return phpPlan(dir, runtime, steps, notes)
  throw new BuildPlanError(`runtime ${runtime} has no local builder: add a Procfile with a web: line`)
}

/** Requests PHP's built-in server handles at once (PHP_CLI_SERVER_WORKERS; the app may set its own). */
const PHP_WORKERS = 4

let knownPhpVersion: string | undefined

/**
 * The host's PHP `major.minor`, or undefined when there is no `php`. Asked once and remembered: the
 * question runs a process synchronously, which should not happen on every deployment (a host's minor
 * version does not change under a running control plane; an install is picked up at the next ask).
 */
function hostPhpVersion(): string | undefined {
  if (knownPhpVersion !== undefined) return knownPhpVersion
  try {
    knownPhpVersion = execFileSync('php', ['-r', 'echo PHP_MAJOR_VERSION, ".", PHP_MINOR_VERSION;'], {
      timeout: 10_000,
      encoding: 'utf8',
    }).trim()
  } catch {
    return undefined
  }
  return knownPhpVersion
}

/**
 * `php@X.Y`: PHP's built-in web server (`php -S`) on loopback, serving `public/` when it exists (else the
 * release root); paths that are not files fall back to `index.php`, so front-controller apps work. Composer
 * dependencies are installed when `composer.json` has them and `vendor/` is not committed (needs `composer` on
 * the host). The host's `php` runs; a different minor than the one asked for is said in the log.
 */
function phpPlan(dir: string, runtime: string, steps: (readonly string[])[], notes: string[]): BuildPlan {
  const hostVersion = hostPhpVersion()
  if (hostVersion === undefined) {
    throw new BuildPlanError(
      `runtime ${runtime}: php is not installed on this host (Debian: apt-get install php-cli)`,
    )
  }
  const wanted = runtime.slice(4)
  notes.push(
    hostVersion === wanted || hostVersion.startsWith(`${wanted}.`) || wanted.startsWith(`${hostVersion}.`)
      ? `runtime ${runtime}: php ${hostVersion}`
      : `warning: runtime ${runtime} requested, this host runs php ${hostVersion}`,
  )
  if (existsSync(path.join(dir, 'composer.json')) && !existsSync(path.join(dir, 'vendor'))) {
    steps.push(['composer', 'install', '--no-dev', '--no-interaction', '--no-progress', '--prefer-dist'])
  }
  const docroot =
    existsSync(path.join(dir, 'public')) && lstatSync(path.join(dir, 'public')).isDirectory() ? 'public' : '.'
  notes.push(`PHP built-in server serving ${docroot === '.' ? 'the release root' : 'public/'}`)
  return {
    kind: 'process',
    steps,
    start: [
      '/bin/sh',
      '-c',
      `PHP_CLI_SERVER_WORKERS=\${PHP_CLI_SERVER_WORKERS:-${PHP_WORKERS}} exec php -S 127.0.0.1:"$PORT" -t ${docroot}`,
    ],
    staticRoot: null,
    notes,
  }
}

/**
 * Makes each persistent directory of a frozen release an empty mount point (the sandbox shows the
 * environment's `shared/<dir>` there, read-write). The release is root-owned and no longer changes, so
 * these checks cannot be raced; a symlink on the way is refused rather than followed.
 */
export function preparePersistentMountPoints(releaseDir: string, dirs: readonly string[]): string[] {
  const notes: string[] = []
  for (const d of dirs) {
    const parts = d.split('/')
    if (parts.some((p) => p === '' || p === '.' || p === '..') || path.isAbsolute(d))
      throw new BuildPlanError(`persistent dir ${d} is not a relative path`)
    const parent = mkdirNoLinks(releaseDir, parts.slice(0, -1))
    const point = path.join(parent, parts[parts.length - 1] as string)
    if (existsSync(point) || isLink(point)) {
      notes.push(`persistent dir ${d}: the copy in the repository is replaced by the shared directory`)
      rmSync(point, { recursive: true, force: true })
    }
    mkdirSync(point, { mode: 0o755 })
  }
  return notes
}

/**
 * Creates `root/parts…` one level at a time and refuses any existing symlink on the way: neither a
 * repository nor an app can make the platform create or link something outside `root`.
 */
function mkdirNoLinks(root: string, parts: readonly string[]): string {
  let current = root
  for (const part of parts) {
    current = path.join(current, part)
    if (isLink(current))
      throw new BuildPlanError(
        `${path.relative(root, current)} is a symbolic link; persistent dirs must be real directories`,
      )
    if (!existsSync(current)) mkdirSync(current)
    else if (!lstatSync(current).isDirectory())
      throw new BuildPlanError(`${path.relative(root, current)} is not a directory`)
  }
  return current
}

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink()
  } catch {
    return false
  }
}
