import { execFile } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, statfsSync, statSync } from 'node:fs'
import path from 'node:path'
import { sql } from 'kysely'
import type { Config } from '../config/index.js'
import { PG_BIN } from '../services/index.js'
import { openStore } from '../store/index.js'
import { parseAptUpgradable } from './apt-updates.js'
import { checkEdgeWorkers } from './edge-workers.js'
import { checkProcesses } from './processes.js'

export type CheckStatus = 'ok' | 'warn' | 'fail'

export interface CheckResult {
  readonly check: string
  readonly status: CheckStatus
  readonly detail: string
}

export interface CommandResult {
  readonly code: number | null
  readonly stdout: string
}

export interface DoctorDeps {
  readonly config: Config
  /** Runs a program (no shell); a missing program answers code null. */
  readonly run?: (argv: readonly string[]) => Promise<CommandResult>
  readonly uid?: number
  readonly now?: Date
  /** Where apt keeps its package lists (their age says how stale the update report is). */
  readonly aptListsDir?: string
  /** The edge's local CA certificate (`<data>/edge/ca/ca.crt`; the CLI passes the edge's path for it). */
  readonly localCaCert?: string
}

const MIN_FREE_BYTES = 1024 ** 3
const APT_LISTS_MAX_AGE_MS = 36 * 3600_000

/** Runs every check; none changes anything on the host (no apt-get update, no database created). */
export async function runDoctor(deps: DoctorDeps): Promise<CheckResult[]> {
  const run = deps.run ?? runProgram
  const uid = deps.uid ?? process.getuid?.() ?? -1
  const now = deps.now ?? new Date()
  return [
    checkNode(),
    await checkIsolation(uid, run),
    checkDataDir(deps.config.dataDir),
    await checkStore(deps.config),
    checkCrs(deps.config.crsDir),
    ...(deps.localCaCert === undefined ? [] : [checkLocalCa(deps.config.dataDir, deps.localCaCert)]),
    await checkProgram(run, 'git', ['git', '--version'], 'fail', 'deployments need git'),
    await checkProgram(run, 'mariadb', ['mariadbd', '--version'], 'warn', 'MariaDB services unavailable'),
    await checkProgram(run, 'redis', ['redis-server', '--version'], 'warn', 'Redis services unavailable'),
    await checkProgram(
      run,
      'postgresql',
      [path.join(PG_BIN, 'postgres'), '--version'],
      'warn',
      'PostgreSQL services unavailable',
    ),
    await checkHostUpdates(run, now, deps.aptListsDir ?? '/var/lib/apt/lists'),
    await checkProcesses(deps.config),
    ...checkEdgeWorkers(deps.config.dataDir, now),
  ]
}

function checkNode(): CheckResult {
  const major = Number(process.versions.node.split('.')[0])
  return major >= 20
    ? { check: 'node', status: 'ok', detail: `Node.js ${process.versions.node}` }
    : {
        check: 'node',
        status: 'fail',
        detail: `Node.js ${process.versions.node}: Palisade needs 20 or later`,
      }
}

async function checkIsolation(uid: number, run: NonNullable<DoctorDeps['run']>): Promise<CheckResult> {
  if (uid !== 0)
    return {
      check: 'isolation',
      status: 'warn',
      detail:
        'not running as root: apps run as the control plane user on loopback ports; environments are NOT isolated from each other',
    }
  const [ip, bwrap] = await Promise.all([run(['ip', '-V']), run(['bwrap', '--version'])])
  if (ip.code !== 0)
    return {
      check: 'isolation',
      status: 'fail',
      detail: 'running as root but `ip` (iproute2) is missing: environments cannot be isolated',
    }
  if (bwrap.code !== 0)
    return {
      check: 'isolation',
      status: 'fail',
      detail:
        'running as root but bubblewrap is missing (Debian: apt-get install bubblewrap): no tenant process can start',
    }
  return {
    check: 'isolation',
    status: 'ok',
    detail:
      'root with iproute2 and bubblewrap: each environment runs as its own user in its own network, mount and PID namespaces',
  }
}

function checkDataDir(dataDir: string): CheckResult {
  if (!existsSync(dataDir))
    return {
      check: 'data-dir',
      status: 'warn',
      detail: `${dataDir} does not exist yet (palisade serve creates it, mode 0700)`,
    }
  const mode = statSync(dataDir).mode & 0o777
  const fs = statfsSync(dataDir)
  const free = fs.bavail * fs.bsize
  const problems: string[] = []
  // `palisade serve` makes it 0700: no environment user passes through it (sandboxes get mounts).
  if (mode & 0o077) problems.push(`mode ${mode.toString(8)} lets other users in (want 700; serve sets it)`)
  const key = path.join(dataDir, 'master.key')
  if (existsSync(key) && statSync(key).mode & 0o077)
    problems.push('master.key is readable by other users (want 600)')
  if (free < MIN_FREE_BYTES) problems.push(`only ${(free / 1024 ** 2).toFixed(0)} MiB free`)
  return problems.length === 0
    ? {
        check: 'data-dir',
        status: 'ok',
        detail: `${dataDir}: mode ${mode.toString(8)}, ${(free / 1024 ** 3).toFixed(1)} GiB free`,
      }
    : { check: 'data-dir', status: 'warn', detail: `${dataDir}: ${problems.join('; ')}` }
}

async function checkStore(config: Config): Promise<CheckResult> {
  if (config.databaseUrl.startsWith('sqlite:') && !existsSync(config.databaseUrl.slice('sqlite:'.length)))
    return {
      check: 'store',
      status: 'warn',
      detail: 'SQLite database not created yet (palisade serve creates it)',
    }
  const store = openStore(config.databaseUrl)
  try {
    await sql`select 1`.execute(store.db)
    const migrations = await sql<{ n: number }>`select count(*) as n from palisade_migrations`
      .execute(store.db)
      .then(
        (r) => Number(r.rows[0]?.n ?? 0),
        () => 0,
      )
    return {
      check: 'store',
      status: 'ok',
      detail: `${store.dialect} reachable, ${migrations} migrations applied`,
    }
  } catch (error) {
    return {
      check: 'store',
      status: 'fail',
      detail: `${store.dialect} unreachable: ${(error as Error).message}`,
    }
  } finally {
    await store.close()
  }
}

function checkCrs(crsDir: string): CheckResult {
  const rulesDir = path.join(crsDir, 'rules')
  const files = existsSync(rulesDir) ? readdirSync(rulesDir).filter((f) => f.endsWith('.conf')) : []
  if (files.length === 0)
    return {
      check: 'waf-rules',
      status: 'warn',
      detail: `no OWASP CRS in ${crsDir}: the edge protects with the built-in baseline rules only (install modsecurity-crs)`,
    }
  const init = path.join(rulesDir, 'REQUEST-901-INITIALIZATION.conf')
  const version = existsSync(init)
    ? /SecComponentSignature\s+"OWASP_CRS\/([\d.]+)"/.exec(readFileSync(init, 'latin1'))?.[1]
    : undefined
  return {
    check: 'waf-rules',
    status: 'ok',
    detail: `OWASP CRS ${version ?? '(version unknown)'}, ${files.length} rule files in ${rulesDir}`,
  }
}

function checkLocalCa(dataDir: string, caCert: string): CheckResult {
  const legacy = path.join(dataDir, 'edge', 'edge', 'ca', 'ca.crt')
  if (!existsSync(caCert) && existsSync(legacy))
    return {
      check: 'local-ca',
      status: 'warn',
      detail: `the local CA is still at ${legacy} (earlier versions' place): palisade serve moves it to ${caCert} at its next start`,
    }
  if (!existsSync(caCert))
    return {
      check: 'local-ca',
      status: 'ok',
      detail: `${caCert} not created yet (palisade serve creates it at its first start; \`palisade ca\` says how to trust it)`,
    }
  return {
    check: 'local-ca',
    status: 'ok',
    detail: `HTTPS for *.localhost names is signed by ${caCert}: trust it with \`curl --cacert ${caCert}\` or your system's store (\`palisade ca\` says how)`,
  }
}

async function checkProgram(
  run: NonNullable<DoctorDeps['run']>,
  check: string,
  argv: readonly string[],
  missing: CheckStatus,
  consequence: string,
): Promise<CheckResult> {
  const r = await run(argv)
  if (r.code === 0) return { check, status: 'ok', detail: r.stdout.trim().split('\n')[0]!.slice(0, 200) }
  return { check, status: missing, detail: `${argv[0]} not found or not working: ${consequence}` }
}

async function checkHostUpdates(
  run: NonNullable<DoctorDeps['run']>,
  now: Date,
  listsDir: string,
): Promise<CheckResult> {
  const listed = await run(['apt', 'list', '--upgradable'])
  if (listed.code === null)
    return {
      check: 'host-updates',
      status: 'warn',
      detail: 'apt not found: cannot tell whether the host is patched',
    }
  const security = parseAptUpgradable(listed.stdout).filter((u) => u.security)
  let age = ''
  let stale = false
  if (existsSync(listsDir)) {
    const newest = Math.max(0, ...readdirSync(listsDir).map((f) => statSync(path.join(listsDir, f)).mtimeMs))
    const hours = (now.getTime() - newest) / 3600_000
    stale = now.getTime() - newest > APT_LISTS_MAX_AGE_MS
    age = `; package lists ${hours < 1 ? 'less than an hour' : `${Math.floor(hours)} h`} old`
  }
  if (security.length > 0) {
    const names = security.map((u) => u.name)
    const shown = names.slice(0, 10).join(', ') + (names.length > 10 ? `, … (${names.length - 10} more)` : '')
    return {
      check: 'host-updates',
      status: 'warn',
      detail: `${security.length} pending Debian security updates: ${shown}${age}`,
    }
  }
  if (stale)
    return {
      check: 'host-updates',
      status: 'warn',
      detail: `no pending security updates known, but${age} (run apt-get update)`,
    }
  return { check: 'host-updates', status: 'ok', detail: `no pending Debian security updates${age}` }
}

function runProgram(argv: readonly string[]): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(
      argv[0]!,
      argv.slice(1),
      { timeout: 30_000, maxBuffer: 8 * 1024 * 1024, env: { ...process.env, LC_ALL: 'C' } },
      (error, stdout) => {
        const code = error
          ? (error as NodeJS.ErrnoException).code === 'ENOENT'
            ? null
            : typeof error.code === 'number'
              ? error.code
              : 1
          : 0
        resolve({ code, stdout: String(stdout) })
      },
    )
  })
}
