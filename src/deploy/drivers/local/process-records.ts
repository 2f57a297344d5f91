import { createHash } from 'node:crypto'
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import { writeFileDurably } from '../../../shared/durable-file.js'

/**
 * Records of the processes the platform started for environments (docs/crash-safety.md): what proves, after a
 * control-plane crash, that a pid is still the process that was started (pid + start time from `/proc` + boot
 * id), and what it was for (environment, instance, role, release, ports, socket). They live in a root-only
 * directory (`<data>/sandboxes/processes`, 0700): a tenant can neither read nor forge them.
 */

export type ProcessRole = 'app' | 'bridge' | 'job' | 'build' | 'service' | 'tool'

export interface ProcessRecord {
  readonly v: 1
  readonly environmentId: string
  /** The app instance (or job / build / service id) the process belongs to. */
  readonly instanceId: string
  readonly role: ProcessRole
  readonly pid: number
  /** `/proc/<pid>/stat` field 22: clock ticks after boot; with the boot id it names one process for good. */
  readonly startTime: string
  readonly bootId: string
  readonly release: number | null
  readonly deploymentId: string | null
  /** Loopback ports in the environment's network namespace the process holds (app port, egress forwarder). */
  readonly ports: readonly number[]
  /** The edge's upstream socket (bridges). */
  readonly socketPath: string | null
  readonly startedAt: string
}

/** The marker every process the platform spawns carries in its environment (found by `/proc` scans). */
export const SPAWN_MARKER = 'PALISADE_SPAWNED'

/** A process found by its marker: `<owner>:<environment>:<instance>:<role>`. */
export interface MarkedProcess {
  readonly pid: number
  readonly environmentId: string
  readonly instanceId: string
  readonly role: string
}

const ID_SHAPE = /^[A-Za-z0-9_-]{1,100}$/
const ROLES: readonly ProcessRole[] = ['app', 'bridge', 'job', 'build', 'service', 'tool']

let bootIdCache: string | null = null
export function bootId(): string {
  bootIdCache ??= readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()
  return bootIdCache
}

/** Fields of `/proc/<pid>/stat` after the command name (which may hold spaces and parentheses). */
function statFields(pid: number): string[] | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return text.slice(text.lastIndexOf(')') + 2).split(' ')
  } catch {
    return null
  }
}

/** The start time of a live (not zombie) process, or null when there is none with this pid. */
export function processStartTime(pid: number): string | null {
  const f = statFields(pid)
  // f[0] is the state (field 3); f[19] is the start time (field 22).
  if (!f || f[0] === 'Z' || f[0] === 'X') return null
  return f[19] ?? null
}

/** The process group of a live process (field 5), or null. */
function processGroup(pid: number): number | null {
  const f = statFields(pid)
  const g = Number(f?.[2])
  return Number.isInteger(g) && g > 0 ? g : null
}

/** Whether the record's process is alive and is that process (not a later one with the same pid). */
export function isAlive(rec: Pick<ProcessRecord, 'pid' | 'startTime' | 'bootId'>): boolean {
  return rec.bootId === bootId() && processStartTime(rec.pid) === rec.startTime
}

/** Real uid of a process, or null. */
export function processUid(pid: number): number | null {
  try {
    const m = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) : null
  } catch {
    return null
  }
}

function pids(): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
}

/**
 * Processes the platform spawned (as root: a tenant cannot make a root process carry the marker) for this
 * data directory, found by the marker in their initial environment. This is how a process whose record was
 * never written (a crash between spawn and record) is still found.
 */
export function scanMarked(owner: string): MarkedProcess[] {
  const found: MarkedProcess[] = []
  const needle = `${SPAWN_MARKER}=${owner}:`
  for (const pid of pids()) {
    if (pid === process.pid) continue
    const uid = processUid(pid)
    if (uid !== (process.getuid?.() ?? 0)) continue
    let environ: string
    try {
      environ = readFileSync(`/proc/${pid}/environ`, 'latin1')
    } catch {
      continue
    }
    const entry = environ.split('\0').find((e) => e.startsWith(needle))
    if (!entry) continue
    const [environmentId, instanceId, role] = entry.slice(needle.length).split(':')
    if (environmentId && instanceId && role) found.push({ pid, environmentId, instanceId, role })
  }
  return found
}

/** Processes of `uid` whose command line names `needle` (a service's directory): the engine's own lock check. */
export function processesOf(uid: number, needle: string): number[] {
  const out: number[] = []
  for (const pid of pids()) {
    if (processUid(pid) !== uid) continue
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
      if (cmd.some((a) => a.includes(needle))) out.push(pid)
    } catch {
      // gone
    }
  }
  return out
}

/** Every live process of `uid` (an environment's user, before it is removed). */
export function processesOfUid(uid: number): number[] {
  return pids().filter((pid) => processUid(pid) === uid && processStartTime(pid) !== null)
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/**
 * Stops a process that is not (or no longer) a child of this control plane: SIGTERM to its process group (if
 * it leads one) or to it, SIGKILL after `graceMs`, and waits until it is gone. `startTime` guards against a
 * recycled pid: nothing is signalled unless the process is still the one that was seen.
 */
export async function stopPid(pid: number, startTime: string | null, graceMs: number): Promise<void> {
  const same = (): boolean => {
    const t = processStartTime(pid)
    return t !== null && (startTime === null || t === startTime)
  }
  if (!same()) return
  const target = processGroup(pid) === pid ? -pid : pid
  const signal = (s: NodeJS.Signals): void => {
    try {
      process.kill(target, s)
    } catch {
      // already gone
    }
  }
  signal('SIGTERM')
  const deadline = Date.now() + graceMs
  while (same() && Date.now() < deadline) await sleep(25)
  if (same() || target < 0) signal('SIGKILL')
  for (let i = 0; i < 200 && same(); i++) await sleep(25)
}

/** A stable, short name for the data directory (several platforms may share a host: tests, benchmarks). */
export function ownerOf(dataDir: string): string {
  return createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 16)
}

export interface ProcessRecords {
  readonly owner: string
  readonly dir: string
  /** Writes (atomically, synced) the record of a process just spawned; returns it. */
  write(input: Omit<ProcessRecord, 'v' | 'startTime' | 'bootId' | 'startedAt'>): ProcessRecord | null
  remove(rec: Pick<ProcessRecord, 'environmentId' | 'instanceId' | 'role'>): void
  /** Every record (of one environment), live or not; unreadable or malformed files are removed. */
  list(environmentId?: string): ProcessRecord[]
  removeEnvironment(environmentId: string): void
  /** Where an app instance's output FIFO lives (its directory is made). */
  fifoPath(environmentId: string, instanceId: string): string
}

/** Records under `<data>/sandboxes/processes/<environment>/<role>-<instance>.json` (root-only). */
export function createProcessRecords(dataDir: string): ProcessRecords {
  const dir = path.join(dataDir, 'sandboxes', 'processes')
  const owner = ownerOf(dataDir)
  const envDir = (envId: string): string => {
    if (!ID_SHAPE.test(envId)) throw new Error(`not an environment id: ${envId.slice(0, 40)}`)
    return path.join(dir, envId)
  }
  const fileOf = (r: Pick<ProcessRecord, 'environmentId' | 'instanceId' | 'role'>): string => {
    if (!ID_SHAPE.test(r.instanceId)) throw new Error(`not an instance id: ${r.instanceId.slice(0, 40)}`)
    return path.join(envDir(r.environmentId), `${r.role}-${r.instanceId}.json`)
  }
  const ensureDir = (d: string): void => {
    mkdirSync(path.dirname(path.dirname(d)), { recursive: true, mode: 0o700 })
    mkdirSync(path.dirname(d), { recursive: true, mode: 0o700 })
    mkdirSync(d, { recursive: true, mode: 0o700 })
  }
  const parse = (file: string): ProcessRecord | null => {
    try {
      const st = lstatSync(file)
      if (!st.isFile() || st.size > 16 * 1024) return null
      const r = JSON.parse(readFileSync(file, 'utf8')) as ProcessRecord
      if (
        r.v !== 1 ||
        !Number.isSafeInteger(r.pid) ||
        r.pid <= 1 ||
        typeof r.startTime !== 'string' ||
        !ROLES.includes(r.role) ||
        !ID_SHAPE.test(r.instanceId) ||
        !ID_SHAPE.test(r.environmentId)
      )
        return null
      return r
    } catch {
      return null
    }
  }
  return {
    owner,
    dir,
    write(input) {
      const startTime = processStartTime(input.pid)
      // Already gone (it failed to start): nothing to record, its exit is handled by the caller.
      if (startTime === null) return null
      const rec: ProcessRecord = {
        v: 1,
        ...input,
        startTime,
        bootId: bootId(),
        startedAt: new Date().toISOString(),
      }
      const file = fileOf(rec)
      ensureDir(path.dirname(file))
      writeFileDurably(file, JSON.stringify(rec))
      return rec
    },
    remove(r) {
      rmSync(fileOf(r), { force: true })
    },
    list(environmentId) {
      if (!existsSync(dir)) return []
      const envs = environmentId === undefined ? readdirSync(dir) : [environmentId]
      const out: ProcessRecord[] = []
      for (const e of envs) {
        if (!ID_SHAPE.test(e)) continue
        const d = path.join(dir, e)
        if (!existsSync(d)) continue
        for (const name of readdirSync(d)) {
          const file = path.join(d, name)
          // Output FIFOs of apps, output files of service servers (service-output.ts).
          if (name.endsWith('.fifo') || /\.log(\.1)?$/.test(name)) continue
          const rec = name.endsWith('.json') ? parse(file) : null
          if (rec) out.push(rec)
          else rmSync(file, { force: true })
        }
      }
      return out
    },
    removeEnvironment(environmentId) {
      rmSync(envDir(environmentId), { recursive: true, force: true })
    },
    fifoPath(environmentId, instanceId) {
      if (!ID_SHAPE.test(instanceId)) throw new Error(`not an instance id: ${instanceId.slice(0, 40)}`)
      const d = envDir(environmentId)
      ensureDir(d)
      return path.join(d, `out-${instanceId}.fifo`)
    },
  }
}
