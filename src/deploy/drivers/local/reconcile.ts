import type { ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import {
  isAlive,
  scanMarked,
  stopPid,
  processStartTime,
  type ProcessRecord,
  type ProcessRecords,
} from './process-records.js'

/** One process the driver supervises: a child it spawned, or a process it adopted after a restart. */
export interface Handle {
  readonly pid: number | undefined
  readonly exited: Promise<{ code: number | null; signal: string | null }>
  stop(graceMs: number): Promise<void>
}

/** Signals a child's process group (the sandbox and all it forked); the child alone when it has none. */
export function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return
  try {
    process.kill(-child.pid, signal)
  } catch {
    try {
      child.kill(signal)
    } catch {
      // already gone
    }
  }
}

export function childExited(child: ChildProcess): Promise<{ code: number | null; signal: string | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null)
      return resolve({ code: child.exitCode, signal: child.signalCode })
    child.once('exit', (code, signal) => resolve({ code, signal }))
    child.once('error', () => resolve({ code: null, signal: null }))
  })
}

/** A handle on a child of this control plane (its process group is signalled). */
export function childHandle(child: ChildProcess): Handle {
  const exited = childExited(child)
  return {
    pid: child.pid,
    exited,
    async stop(graceMs) {
      signalGroup(child, 'SIGTERM')
      const kill = setTimeout(() => signalGroup(child, 'SIGKILL'), graceMs)
      await exited
      clearTimeout(kill)
    },
  }
}

/**
 * A handle on a recorded process that a previous control plane started (not our child: its exit is seen by
 * polling `/proc`, its code is unknown). Stopping it checks the start time first: a recycled pid is never hit.
 */
export function adoptedHandle(rec: ProcessRecord, pollMs = 250): Handle {
  let timer: NodeJS.Timeout | null = null
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    const check = (): void => {
      if (!isAlive(rec)) {
        timer = null
        resolve({ code: null, signal: null })
        return
      }
      timer = setTimeout(check, pollMs)
      timer.unref()
    }
    check()
  })
  return {
    pid: rec.pid,
    exited,
    async stop(graceMs) {
      await stopPid(rec.pid, rec.startTime, graceMs)
      await exited
      if (timer) clearTimeout(timer)
    },
  }
}

export interface StrayProcess {
  readonly pid: number
  readonly environmentId: string
  readonly instanceId: string
  readonly role: string
  /** `unwanted`: recorded, alive, not what should run; `unrecorded`: marked as ours but never recorded. */
  readonly why: 'unwanted' | 'unrecorded'
}

export interface Inspection {
  /** Live recorded processes. */
  readonly live: readonly ProcessRecord[]
  /** Records whose process is gone (removed when `tidy`). */
  readonly dead: readonly ProcessRecord[]
  /** Processes carrying this platform's marker that no live record names. */
  readonly unrecorded: readonly StrayProcess[]
  /** App processes beyond the first of an environment (duplicates). */
  readonly duplicates: readonly ProcessRecord[]
}

/** What runs, as the records and `/proc` tell it (read-only unless `tidy`, which drops dead records). */
export function inspectProcesses(
  records: ProcessRecords,
  opts: {
    readonly environmentId?: string
    readonly exclude?: ReadonlySet<number>
    readonly tidy?: boolean
  } = {},
): Inspection {
  const all = records.list(opts.environmentId)
  const live: ProcessRecord[] = []
  const dead: ProcessRecord[] = []
  for (const r of all) (isAlive(r) ? live : dead).push(r)
  if (opts.tidy) for (const r of dead) records.remove(r)
  const known = new Set(live.map((r) => r.pid))
  const unrecorded: StrayProcess[] = scanMarked(records.owner)
    .filter((m) => opts.environmentId === undefined || m.environmentId === opts.environmentId)
    .filter((m) => !known.has(m.pid) && !descendsFrom(m.pid, new Set([...known, ...(opts.exclude ?? [])])))
    .map((m) => ({ ...m, why: 'unrecorded' as const }))
  const seen = new Map<string, ProcessRecord>()
  const duplicates: ProcessRecord[] = []
  // More than one app instance of an environment (a switch in progress shows two for a few seconds).
  for (const r of live.filter((x) => x.role === 'app')) {
    const first = seen.get(r.environmentId)
    if (first) duplicates.push(r)
    else seen.set(r.environmentId, r)
  }
  return { live, dead, unrecorded, duplicates }
}

/**
 * Whether `pid` is (a descendant of) one of `leaders`: bubblewrap's own processes inside a sandbox carry the
 * marker too, and go with their recorded or supervised leader.
 */
function descendsFrom(pid: number, leaders: ReadonlySet<number>): boolean {
  let p = pid
  for (let i = 0; i < 64 && p > 1; i++) {
    if (leaders.has(p)) return true
    const parent = parentOf(p)
    if (parent === null) return false
    p = parent
  }
  return false
}

function parentOf(pid: number): number | null {
  if (processStartTime(pid) === null) return null
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const ppid = Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[1])
    return Number.isInteger(ppid) ? ppid : null
  } catch {
    return null
  }
}

/**
 * Stops every process the records or the marker name that `keep` does not accept (orphans, superseded
 * releases, duplicates, processes whose record was never written), removes the records of dead and stopped
 * processes, and returns what it stopped. `exclude`: pids this control plane supervises right now.
 */
export async function reapProcesses(
  records: ProcessRecords,
  opts: {
    readonly keep: (rec: ProcessRecord) => boolean
    readonly environmentId?: string
    readonly exclude?: ReadonlySet<number>
    readonly graceMs: number
  },
): Promise<StrayProcess[]> {
  const seen = inspectProcesses(records, {
    tidy: true,
    ...(opts.environmentId === undefined ? {} : { environmentId: opts.environmentId }),
    ...(opts.exclude ? { exclude: opts.exclude } : {}),
  })
  const stopped: StrayProcess[] = []
  const kept = new Set<string>()
  const work: Promise<void>[] = []
  for (const r of seen.live) {
    const key = `${r.environmentId}/${r.role}/${r.instanceId}`
    if (opts.exclude?.has(r.pid)) continue
    if (!kept.has(key) && opts.keep(r)) {
      kept.add(key)
      continue
    }
    stopped.push({ ...r, why: 'unwanted' })
    work.push(stopPid(r.pid, r.startTime, opts.graceMs).then(() => records.remove(r)))
  }
  for (const m of seen.unrecorded) {
    stopped.push(m)
    work.push(stopPid(m.pid, processStartTime(m.pid), opts.graceMs))
  }
  await Promise.all(work)
  return stopped
}
