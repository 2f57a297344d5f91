/**
 * Issue #8 benchmark: managed services.
 *  1. Provision time per type (MariaDB, Redis, PostgreSQL): POST /v1/environments/:id/services → running.
 *  2. Backup and restore throughput on a ~1 GB MariaDB dataset (filled server-side with the app's credentials),
 *     with the restored data checked (row count + SUM(CRC32(row))).
 *  3. `SELECT 1` latency from a process inside the environment (its system user and network namespace, the
 *     injected DATABASE_URL, the service's Unix socket) versus the same client on the host against a throwaway
 *     mariadbd on plain loopback TCP, in the same run.
 * Runs the real platform in-process (SQLite store, temp data dir) and removes everything it made.
 *
 * Usage (root): node --import tsx bench/services/run.ts [--gb 1] [--queries 5000] [--samples 3]
 *   --gb: dataset size; --queries: `SELECT 1` per path; --samples: provisionings per type (median reported).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { loadConfig } from '../../src/config/index.js'
import { removeSandbox, sandboxName } from '../../src/deploy/index.js'
import { createPlatform, type Platform } from '../../src/main.js'
import { freePort } from '../../test/support/processes.js'

if (process.getuid?.() !== 0) {
  console.error(
    'bench/services needs root: services run as per-environment system users in their own network namespaces',
  )
  process.exit(2)
}

const { values: flags } = parseArgs({
  options: {
    gb: { type: 'string', default: '1' },
    queries: { type: 'string', default: '5000' },
    samples: { type: 'string', default: '3' },
  },
})
const GB = Number(flags.gb)
const QUERIES = Number(flags.queries)
const SAMPLES = Number(flags.samples)
if (!(GB > 0 && GB <= 20) || !(QUERIES >= 100) || !(SAMPLES >= 1)) {
  console.error('usage: run.ts [--gb 0<N≤20] [--queries ≥100] [--samples ≥1]')
  process.exit(1)
}
const COMMAND = `node --import tsx bench/services/run.ts --gb ${GB} --queries ${QUERIES} --samples ${SAMPLES}`
/** Decimal units throughout: 1 MB = 10^6 bytes, 1 GB = 10^9 bytes. */
const MB = 1e6
const LOAD_AT_START = loadavg()
const PING = fileURLToPath(new URL('./mysql-ping.ts', import.meta.url))
const TSX = import.meta.resolve('tsx')
const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

const log = (line: string): void => console.error(`[${new Date().toISOString().slice(11, 19)}] ${line}`)
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
const secs = (ms: number): string => (ms / 1000).toFixed(2)
const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}
/** Nearest-rank percentile of sorted values. */
const pct = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!

interface Result {
  code: number | null
  out: string
  err: string
}

/** Runs argv (no shell) with exactly `env`; optionally as another user; stdout may be counted instead of kept. */
function run(
  argv: readonly string[],
  env: Record<string, string>,
  opts: { user?: { uid: number; gid: number }; cwd?: string; countOnly?: boolean } = {},
): Promise<Result & { bytes: number }> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      env: { PATH: SYSTEM_PATH, LANG: 'C.UTF-8', ...env },
      cwd: opts.cwd ?? '/',
      stdio: ['ignore', 'pipe', 'pipe'],
      shell: false,
      ...(opts.user ?? {}),
    })
    let out = ''
    let err = ''
    let bytes = 0
    child.stdout.on('data', (b: Buffer) => {
      bytes += b.length
      if (!opts.countOnly) out += b.toString('utf8')
    })
    child.stderr.setEncoding('utf8').on('data', (t: string) => (err += t))
    child.on('error', (e) => resolve({ code: null, out, err: err + e.message, bytes }))
    child.on('close', (code) => resolve({ code, out, err, bytes }))
  })
}

async function must(
  argv: readonly string[],
  env: Record<string, string>,
  opts: Parameters<typeof run>[2] = {},
): Promise<string> {
  const r = await run(argv, env, opts)
  if (r.code !== 0)
    throw new Error(`${argv[0]} exited with ${r.code}: ${(r.err || r.out).trim().slice(-600)}`)
  return r.out
}

// ---------------------------------------------------------------------------------------------------------
// Platform
// Short: Unix socket paths under <data>/envs/<env>/services/<svc>/ must stay within 107 bytes.
const root = mkdtempSync(path.join(tmpdir(), 'pbs-'))
// Environment users pass through the temp dir to reach their own directories.
chmodSync(root, 0o711)
const config = loadConfig(
  {},
  { dataDir: path.join(root, 'd'), masterKey: 'c'.repeat(64), logLevel: 'silent' },
)
let setupToken = ''
let platform: Platform | undefined
const environments: string[] = []
let loopback: ChildProcess | undefined
let cleaned = false

async function cleanup(): Promise<void> {
  if (cleaned) return
  cleaned = true
  if (platform && token) {
    for (const env of environments) {
      const list = (await call('GET', `/v1/environments/${env}/services`).catch(() => ({ items: [] }))) as {
        items?: Array<{ id: string }>
      }
      for (const s of list.items ?? [])
        await call('DELETE', `/v1/services/${s.id}?deleteData=true`).catch(() => undefined)
      await call('DELETE', `/v1/environments/${env}`).catch(() => undefined)
    }
  }
  await platform?.close().catch((e: unknown) => log(`platform close: ${String(e)}`))
  for (const env of environments) await removeSandbox(sandboxName(env))
  if (loopback && loopback.exitCode === null && loopback.signalCode === null) {
    const done = new Promise((r) => loopback?.once('exit', r))
    loopback.kill('SIGTERM')
    await Promise.race([done, sleep(30_000)])
    if (loopback.exitCode === null && loopback.signalCode === null) loopback.kill('SIGKILL')
  }
  rmSync(root, { recursive: true, force: true })
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    log(`${sig}: cleaning up`)
    void cleanup().finally(() => process.exit(130))
  })
}

let token = ''
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- bench script reads loosely shaped JSON
async function call(method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown): Promise<any> {
  const res = await platform!.app.inject({
    method,
    url,
    headers: token ? { authorization: `Bearer ${token}` } : {},
    ...(body === undefined ? {} : { payload: body as string }),
  })
  if (res.statusCode >= 400) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`)
  return res.body ? res.json() : null
}

async function waitService(id: string, pollMs: number): Promise<void> {
  const deadline = Date.now() + 300_000
  for (;;) {
    const s = await call('GET', `/v1/services/${id}`)
    if (s.status === 'running') return
    if (s.status === 'failed') throw new Error(`service ${s.type} failed: ${s.reason}`)
    if (Date.now() > deadline) throw new Error(`service ${id} still ${s.status}`)
    await sleep(pollMs)
  }
}

/** POST → running, in ms (polled every 50 ms). */
async function provision(env: string, type: string, name: string): Promise<{ id: string; ms: number }> {
  const t0 = performance.now()
  const { id } = await call('POST', `/v1/environments/${env}/services`, { type, name })
  await waitService(id, 50)
  return { id, ms: performance.now() - t0 }
}

// ---------------------------------------------------------------------------------------------------------
// The measurements
interface Figures {
  provision: Record<string, number[]>
  dataset?: {
    rows: number
    fillMs: number
    innodbBytes: number
    dumpBytes: number
    dumpMs: number
    backupMs: number
    archiveBytes: number
    restoreMs: number
    identical: boolean
    checksum: string
  }
  latency?: Record<string, number[]>
  /** Each connection's median, per path. */
  connectionP50?: Record<string, number[]>
  server?: string
}
const figures: Figures = { provision: {} }

async function measureProvisioning(env: string): Promise<void> {
  // The environment's system user and namespace are made by its first service: not part of the figure.
  const warm = await provision(env, 'redis', 'warm-up')
  await call('DELETE', `/v1/services/${warm.id}?deleteData=true`)
  for (let i = 1; i <= SAMPLES; i++) {
    for (const type of ['mariadb', 'redis', 'postgresql']) {
      const { id, ms } = await provision(env, type, `${type}-${i}`)
      ;(figures.provision[type] ??= []).push(ms)
      log(`provision ${type} #${i}: ${secs(ms)} s`)
      await call('DELETE', `/v1/services/${id}?deleteData=true`)
    }
  }
}

/** The app's `mariadb` client, as the environment's user, with the injected MYSQL_* variables. */
function appSql(
  vars: Record<string, string>,
  user: { uid: number; gid: number },
  sql: string,
): Promise<string> {
  return must(
    [
      'mariadb',
      '--no-defaults',
      `--socket=${vars['MYSQL_UNIX_PORT']}`,
      `--user=${vars['MYSQL_USER']}`,
      '--batch',
      '--skip-column-names',
      `--execute=${sql}`,
      vars['MYSQL_DATABASE'] ?? '',
    ],
    { MYSQL_PWD: vars['MYSQL_PASSWORD'] ?? '', HOME: '/nonexistent' },
    { user },
  )
}

const CHECKSUM_SQL = "SELECT COUNT(*), SUM(CRC32(CONCAT_WS('|', id, k, email, payload, created))) FROM bench"

async function sizeOf(vars: Record<string, string>, user: { uid: number; gid: number }): Promise<number> {
  const out = await appSql(
    vars,
    user,
    "ANALYZE TABLE bench; SELECT data_length + index_length FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'bench'",
  )
  return Number(out.trim().split('\n').pop())
}

/**
 * Rows of ~0.8 kB: an id, a random key under a secondary index, an e-mail, a date and a payload of random
 * hex (compresses about 2:1, between text and already-compressed data). Inserted server-side in batches
 * from the built-in SEQUENCE engine.
 */
async function fillDataset(vars: Record<string, string>, user: { uid: number; gid: number }): Promise<void> {
  await appSql(
    vars,
    user,
    `CREATE TABLE bench (
       id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
       k INT UNSIGNED NOT NULL,
       email VARCHAR(100) NOT NULL,
       payload VARCHAR(1000) NOT NULL,
       created DATETIME NOT NULL,
       KEY by_k (k)
     ) ENGINE=InnoDB`,
  )
  const target = GB * 1e9
  const batch = 100_000
  const insert = (n: number): Promise<string> =>
    appSql(
      vars,
      user,
      `INSERT INTO bench (k, email, payload, created)
       SELECT FLOOR(RAND() * 4294967295), CONCAT('user', seq, '.', FLOOR(RAND() * 1e6), '@example.com'),
              CONCAT_WS(' ', SHA2(RAND(), 512), SHA2(RAND(), 512), SHA2(RAND(), 512),
                             SHA2(RAND(), 512), SHA2(RAND(), 512), SHA2(RAND(), 512)),
              NOW() - INTERVAL FLOOR(RAND() * 1e8) SECOND
       FROM seq_1_to_${n}`,
    )
  const t0 = performance.now()
  await insert(Math.min(batch, 20_000))
  let rows = Math.min(batch, 20_000)
  const perRow = (await sizeOf(vars, user)) / rows
  const want = Math.ceil(target / perRow)
  log(`dataset: ~${perRow.toFixed(0)} bytes/row on disk, inserting ${want} rows`)
  while (rows < want) {
    const n = Math.min(batch, want - rows)
    await insert(n)
    rows += n
    if (rows % 500_000 < batch) log(`dataset: ${rows} of ${want} rows`)
  }
  const fillMs = performance.now() - t0
  figures.dataset = {
    rows,
    fillMs,
    innodbBytes: await sizeOf(vars, user),
    dumpBytes: 0,
    dumpMs: 0,
    backupMs: 0,
    archiveBytes: 0,
    restoreMs: 0,
    identical: false,
    checksum: '',
  }
  log(`dataset: ${rows} rows, ${(figures.dataset.innodbBytes / MB).toFixed(0)} MB in ${secs(fillMs)} s`)
}

async function measureBackup(env: string, serviceId: string): Promise<void> {
  const d = figures.dataset!
  const user = ownerOf(env)
  const vars = await platform!.services.connectionVariables(env)
  d.checksum = (await appSql(vars, user, CHECKSUM_SQL)).trim()
  log(`checksum before: ${d.checksum}`)

  // The logical dump alone (same command and flags as the engine's backup), counted, not stored.
  const access = await platform!.services.adminAccess(serviceId)
  if (!access) throw new Error('the MariaDB service is not running')
  const t0 = performance.now()
  const dump = await run(
    [
      'mariadb-dump',
      '--no-defaults',
      `--socket=${vars['MYSQL_UNIX_PORT']}`,
      `--user=${access.creds.adminUser}`,
      '--single-transaction',
      '--routines',
      '--triggers',
      '--hex-blob',
      '--default-character-set=utf8mb4',
      '--databases',
      access.creds.database,
    ],
    { MYSQL_PWD: access.creds.adminPassword },
    { countOnly: true },
  )
  if (dump.code !== 0) throw new Error(`mariadb-dump: ${dump.err.slice(-600)}`)
  d.dumpMs = performance.now() - t0
  d.dumpBytes = dump.bytes
  log(`mariadb-dump alone: ${(d.dumpBytes / MB).toFixed(0)} MB in ${secs(d.dumpMs)} s`)

  const t1 = performance.now()
  const b = await call('POST', `/v1/environments/${env}/backups`, {})
  let backup = b
  while (backup.status === 'running') {
    await sleep(100)
    backup = await call('GET', `/v1/backups/${b.id}`)
  }
  d.backupMs = performance.now() - t1
  if (backup.status !== 'succeeded') throw new Error(`backup ${backup.status}: ${backup.reason}`)
  d.archiveBytes = backup.sizeBytes
  log(`backup: ${(d.archiveBytes / MB).toFixed(0)} MB archive in ${secs(d.backupMs)} s`)

  // Lose the data, then restore it.
  await appSql(vars, user, 'DROP TABLE bench')
  const t2 = performance.now()
  await call('POST', `/v1/backups/${b.id}/restore`)
  d.restoreMs = performance.now() - t2
  log(`restore: ${secs(d.restoreMs)} s`)
  const after = (await appSql(vars, user, CHECKSUM_SQL)).trim()
  d.identical = after === d.checksum
  log(`checksum after: ${after} (${d.identical ? 'identical' : 'DIFFERENT'})`)
  await call('DELETE', `/v1/backups/${b.id}`)
}

function ownerOf(env: string): { uid: number; gid: number } {
  const st = statSync(path.join(config.dataDir, 'envs', env))
  return { uid: st.uid, gid: st.gid }
}

/** A throwaway mariadbd (same binary and settings as the service) on 127.0.0.1:<free port> and a socket. */
async function startLoopbackServer(): Promise<{ tcpUrl: string; socketUrl: string }> {
  const dir = path.join(root, 'loopback')
  mkdirSync(path.join(dir, 'tmp'), { recursive: true })
  // mariadbd refuses to run as root: the Debian package's `mysql` account runs it.
  const uid = Number(await must(['id', '-u', 'mysql'], {}))
  const gid = Number(await must(['id', '-g', 'mysql'], {}))
  chownSync(dir, uid, gid)
  chownSync(path.join(dir, 'tmp'), uid, gid)
  const password = 'bench-' + Math.random().toString(36).slice(2)
  const init = path.join(root, 'loopback-init.sql')
  writeFileSync(
    init,
    [
      // The bootstrap runs without grant tables until they are loaded.
      'FLUSH PRIVILEGES;',
      'CREATE DATABASE bench;',
      `CREATE USER 'bench'@'127.0.0.1' IDENTIFIED BY '${password}';`,
      `CREATE USER 'bench'@'localhost' IDENTIFIED BY '${password}';`,
      "GRANT ALL ON bench.* TO 'bench'@'127.0.0.1';",
      "GRANT ALL ON bench.* TO 'bench'@'localhost';",
      '',
    ].join('\n'),
    { mode: 0o644 },
  )
  await must(
    [
      'mariadb-install-db',
      '--no-defaults',
      '--user=mysql',
      `--datadir=${path.join(dir, 'data')}`,
      '--auth-root-authentication-method=socket',
      '--skip-test-db',
      '--skip-name-resolve',
      `--extra-file=${init}`,
    ],
    {},
    { cwd: dir },
  )
  rmSync(init)
  const port = await freePort()
  const socket = path.join(dir, 'mysql.sock')
  loopback = spawn(
    'mariadbd',
    [
      '--no-defaults',
      '--user=mysql',
      `--datadir=${path.join(dir, 'data')}`,
      `--socket=${socket}`,
      `--pid-file=${path.join(dir, 'mariadb.pid')}`,
      `--tmpdir=${path.join(dir, 'tmp')}`,
      '--bind-address=127.0.0.1',
      `--port=${port}`,
      '--skip-name-resolve',
      '--local-infile=0',
      '--symbolic-links=0',
      '--character-set-server=utf8mb4',
      '--collation-server=utf8mb4_unicode_ci',
      '--innodb-buffer-pool-size=64M',
      '--max-connections=100',
    ],
    { env: { PATH: SYSTEM_PATH }, stdio: ['ignore', 'ignore', 'pipe'], cwd: dir },
  )
  let stderr = ''
  loopback.stderr?.setEncoding('utf8').on('data', (t: string) => (stderr += t))
  const tcpUrl = `mysql://bench:${password}@127.0.0.1:${port}/bench`
  const deadline = Date.now() + 60_000
  for (;;) {
    const r = await run(
      [
        'mariadb',
        '--no-defaults',
        '--protocol=tcp',
        '--host=127.0.0.1',
        `--port=${port}`,
        '--user=bench',
        '--execute=SELECT 1',
        'bench',
      ],
      { MYSQL_PWD: password },
    )
    if (r.code === 0) break
    if (loopback.exitCode !== null || Date.now() > deadline)
      throw new Error(`throwaway mariadbd did not start: ${stderr.slice(-600)}`)
    await sleep(200)
  }
  return {
    tcpUrl,
    socketUrl: `mysql://bench:${password}@localhost/bench?socket=${encodeURIComponent(socket)}`,
  }
}

/** A running ping client (bench/services/mysql-ping.ts) with its connection open and warmed up. */
interface PingClient {
  /** Runs n `SELECT 1` and answers their durations, µs. */
  batch(n: number): Promise<number[]>
  close(): Promise<void>
}

/**
 * Starts the ping client with DATABASE_URL=url: inside the environment when `inside` is given (as the local
 * deploy driver runs an app: nsenter into its network namespace as its system user, with its variables),
 * else on the host as root.
 */
async function startClient(
  url: string,
  inside?: { env: string; vars: Record<string, string> },
): Promise<PingClient> {
  const node = [process.execPath, '--import', TSX, PING, '200']
  let argv = node
  let env: Record<string, string> = {
    PATH: SYSTEM_PATH,
    LANG: 'C.UTF-8',
    HOME: '/nonexistent',
    DATABASE_URL: url,
  }
  let cwd = '/'
  if (inside) {
    const user = ownerOf(inside.env)
    cwd = path.join(config.dataDir, 'envs', inside.env)
    argv = [
      'nsenter',
      `--net=/run/netns/${sandboxName(inside.env)}`,
      `--setuid=${user.uid}`,
      `--setgid=${user.gid}`,
      '--',
      ...node,
    ]
    env = {
      PATH: SYSTEM_PATH,
      LANG: 'C.UTF-8',
      HOME: path.join(cwd, 'home'),
      // tsx's cache goes to the environment's own directory (removed with it), not /tmp/tsx-<uid>.
      TMPDIR: path.join(cwd, 'home'),
      ...inside.vars,
      DATABASE_URL: url,
    }
  }
  const child = spawn(argv[0]!, argv.slice(1), { env, cwd, stdio: ['pipe', 'pipe', 'pipe'], shell: false })
  let err = ''
  child.stderr.setEncoding('utf8').on('data', (t: string) => (err += t))
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()))
  const next = async (): Promise<string> => {
    const r = await lines.next()
    if (r.done) {
      await exited
      throw new Error(`ping client failed: ${err.trim().slice(-600) || `exit ${child.exitCode}`}`)
    }
    return r.value
  }
  const hello = JSON.parse(await next()) as { server: string }
  figures.server ??= hello.server.replace(/^5\.5\.5-/, '')
  return {
    async batch(n) {
      child.stdin.write(`${n}\n`)
      return JSON.parse(await next()) as number[]
    },
    async close() {
      child.stdin.end('\n')
      await exited
    },
  }
}

const PATHS = [
  'A. app in the environment → service socket',
  'B. host (root) → same service socket',
  'C. host → throwaway mariadbd, loopback TCP',
  'D. host → throwaway mariadbd, Unix socket',
] as const
const BATCH = 50
const GENERATIONS = 10

async function measureLatency(env: string): Promise<void> {
  const vars = await platform!.services.connectionVariables(env)
  const appUrl = vars['DATABASE_URL']
  if (!appUrl?.startsWith('mysql://')) throw new Error('DATABASE_URL is not the MariaDB service')
  const { tcpUrl, socketUrl } = await startLoopbackServer()
  // Sanity check of path A: from inside the environment the host's loopback server is out of reach.
  const escaped = await startClient(tcpUrl, { env, vars }).then(
    async (c) => (await c.close(), true),
    (e: unknown) => (/ECONNREFUSED/.test(String(e)) ? false : Promise.reject(e as Error)),
  )
  if (escaped) throw new Error('the in-environment client reached the host loopback: not in its namespace')
  // Batches of 50 queries, round-robin in a rotating order: the machine's ups and downs (other work on
  // the same cores) fall on every path alike. Fresh processes and connections for each of a few
  // generations: on a small machine one client/server pair can stay on one core (slow wake-ups) for its
  // whole life, and that luck should be shared out too.
  const latency: Record<string, number[]> = {}
  const perConnection: Record<string, number[]> = {}
  for (let g = 0; g < GENERATIONS; g++) {
    const quota = Math.floor(QUERIES / GENERATIONS) + (g < QUERIES % GENERATIONS ? 1 : 0)
    const starts = [
      () => startClient(appUrl, { env, vars }),
      () => startClient(appUrl),
      () => startClient(tcpUrl),
      () => startClient(socketUrl),
    ]
    // Started in a rotating order too (the newest process is not always the same path's).
    const clients: PingClient[] = []
    for (let i = 0; i < starts.length; i++) {
      const k = (i + g) % starts.length
      clients[k] = await starts[k]!()
    }
    const mine: number[][] = clients.map(() => [])
    for (let round = 0; round * BATCH < quota; round++) {
      const n = Math.min(BATCH, quota - round * BATCH)
      for (let i = 0; i < clients.length; i++) {
        const k = (i + round + g) % clients.length
        mine[k]!.push(...(await clients[k]!.batch(n)))
      }
    }
    mine.forEach((xs, k) => {
      ;(latency[PATHS[k]!] ??= []).push(...xs)
      ;(perConnection[PATHS[k]!] ??= []).push(median(xs))
    })
    log(
      `latency connection ${g + 1}/${GENERATIONS}, p50 µs: ${mine.map((xs, k) => `${PATHS[k]!.slice(0, 1)} ${median(xs).toFixed(1)}`).join(', ')}`,
    )
    for (const c of clients) await c.close()
  }
  figures.latency = latency
  figures.connectionP50 = perConnection
  for (const name of PATHS) {
    const s = [...latency[name]!].sort((a, b) => a - b)
    log(`latency ${name}: p50 ${pct(s, 50).toFixed(1)} µs, p99 ${pct(s, 99).toFixed(1)} µs`)
  }
  const done = new Promise((r) => loopback?.once('exit', r))
  loopback?.kill('SIGTERM')
  await Promise.race([done, sleep(30_000)])
}

// ---------------------------------------------------------------------------------------------------------
function report(): string {
  const lines: string[] = []
  const load = loadavg()
  lines.push(`Command: \`${COMMAND}\` (as root)`)
  lines.push('')
  lines.push(
    `Host: ${cpus().length} × ${cpus()[0]?.model.trim() ?? '?'}, load average (1/5/15 min) ${LOAD_AT_START.map((l) => l.toFixed(1)).join(' / ')} at the start and ${load.map((l) => l.toFixed(1)).join(' / ')} at the end, MariaDB ${figures.server ?? '?'}, Node.js ${process.version}, SQLite store. 1 MB = 10^6 bytes.`,
  )
  lines.push('')
  lines.push('| Provisioning (POST → running) | runs | median s | min s | max s |')
  lines.push('|---|---:|---:|---:|---:|')
  for (const [type, xs] of Object.entries(figures.provision)) {
    lines.push(
      `| ${type} | ${xs.length} | ${secs(median(xs))} | ${secs(Math.min(...xs))} | ${secs(Math.max(...xs))} |`,
    )
  }
  const d = figures.dataset
  if (d) {
    const ds = d.innodbBytes / MB
    lines.push('')
    lines.push(
      `Dataset: ${d.rows.toLocaleString('en')} rows, ${ds.toFixed(0)} MB as MariaDB reports it (data_length + index_length), ${(d.dumpBytes / MB).toFixed(0)} MB as a logical dump; filled in ${secs(d.fillMs)} s.`,
    )
    lines.push('')
    lines.push(`| MariaDB, ${(ds / 1000).toFixed(2)} GB dataset | seconds | dataset MB/s | other MB/s |`)
    lines.push('|---|---:|---:|---:|')
    lines.push(
      `| mariadb-dump alone (reference, not stored) | ${secs(d.dumpMs)} | ${(ds / (d.dumpMs / 1000)).toFixed(1)} | dump ${(d.dumpBytes / MB / (d.dumpMs / 1000)).toFixed(1)} |`,
    )
    lines.push(
      `| backup create → succeeded (dump + checksums + tar.gz + AES-256-GCM), archive ${(d.archiveBytes / MB).toFixed(0)} MB | ${secs(d.backupMs)} | ${(ds / (d.backupMs / 1000)).toFixed(1)} | archive ${(d.archiveBytes / MB / (d.backupMs / 1000)).toFixed(1)} |`,
    )
    lines.push(
      `| restore → done (verify whole archive, then reload the dump) | ${secs(d.restoreMs)} | ${(ds / (d.restoreMs / 1000)).toFixed(1)} | archive ${(d.archiveBytes / MB / (d.restoreMs / 1000)).toFixed(1)} |`,
    )
    lines.push('')
    lines.push(
      `Restored data ${d.identical ? 'identical' : 'DIFFERENT'}: row count and SUM(CRC32(row)) = ${d.checksum.replace('\t', ' / ')} before the backup and after the restore (the table was dropped in between).`,
    )
  }
  if (figures.latency) {
    lines.push('')
    lines.push(
      `| \`SELECT 1\` round trip (${QUERIES} queries per path over ${GENERATIONS} successive connections, interleaved in batches of ${BATCH}) | p50 µs | p90 µs | p99 µs | mean µs | median of the connections' p50s, µs |`,
    )
    lines.push('|---|---:|---:|---:|---:|---:|')
    const stats: Record<string, { p50: number; p99: number; typical: number }> = {}
    for (const name of PATHS) {
      const s = [...(figures.latency[name] ?? [])].sort((a, b) => a - b)
      if (s.length === 0) continue
      const mean = s.reduce((a, b) => a + b, 0) / s.length
      const typical = median(figures.connectionP50?.[name] ?? [NaN])
      stats[name] = { p50: pct(s, 50), p99: pct(s, 99), typical }
      lines.push(
        `| ${name} | ${pct(s, 50).toFixed(1)} | ${pct(s, 90).toFixed(1)} | ${pct(s, 99).toFixed(1)} | ${mean.toFixed(1)} | ${typical.toFixed(1)} |`,
      )
    }
    const [a, b, c] = PATHS.map((k) => stats[k])
    if (a && b && c) {
      const sign = (x: number): string => (x >= 0 ? '+' : '') + x.toFixed(1)
      lines.push('')
      lines.push(
        `Extra latency through the environment's isolation vs plain loopback TCP (A − C): p50 ${sign(a.p50 - c.p50)} µs (typical connection ${sign(a.typical - c.typical)} µs), p99 ${sign(a.p99 - c.p99)} µs; of the isolation alone on the same socket (A − B): p50 ${sign(a.p50 - b.p50)} µs (typical connection ${sign(a.typical - b.typical)} µs), p99 ${sign(a.p99 - b.p99)} µs.`,
      )
    }
  }
  return lines.join('\n')
}

try {
  platform = await createPlatform(config, {
    announce: (l) => (setupToken = l.split(': ').pop() ?? ''),
  })
  const setup = await call('POST', '/v1/setup', {
    token: setupToken,
    email: 'bench@example.com',
    password: 'correct horse battery staple 42',
    workspace: 'bench',
  })
  ;({ token } = await call('POST', '/v1/sessions', {
    email: 'bench@example.com',
    password: 'correct horse battery staple 42',
  }))
  const project = await call('POST', `/v1/workspaces/${setup.workspace.id}/projects`, { name: 'bench' })
  const provEnv = (await call('POST', `/v1/projects/${project.id}/environments`, { name: 'provision' })).id
  environments.push(provEnv)
  const dataEnv = (await call('POST', `/v1/projects/${project.id}/environments`, { name: 'data' })).id
  environments.push(dataEnv)

  log(`provisioning: ${SAMPLES} × mariadb, redis, postgresql`)
  await measureProvisioning(provEnv)

  const db = await provision(dataEnv, 'mariadb', 'db')
  log(`data MariaDB running after ${secs(db.ms)} s`)
  // Latency first: the server is idle (no InnoDB flushing left over from the 1 GB load).
  await measureLatency(dataEnv)
  const vars = await platform.services.connectionVariables(dataEnv)
  await fillDataset(vars, ownerOf(dataEnv))
  await measureBackup(dataEnv, db.id)

  const table = report()
  console.log(table)
} catch (error) {
  log(`FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
  process.exitCode = 1
} finally {
  log('cleaning up')
  await cleanup()
}
