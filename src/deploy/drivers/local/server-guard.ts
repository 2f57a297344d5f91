import { readFileSync } from 'node:fs'
import {
  createProcessRecords,
  isAlive,
  processesOf,
  processStartTime,
  stopPid,
  type ProcessRecord,
} from './process-records.js'
import { createServiceOutput } from './service-output.js'

/** How long a stray service server gets to shut down cleanly before SIGKILL (its data is crash-safe), ms. */
const STRAY_GRACE_MS = 5_000

/** A live server a previous control plane started and recorded, which the next one may take over. */
export interface RecordedServer {
  /** The process the control plane spawned (leader of the server's process group). */
  readonly pid: number
  readonly startTime: string
  /** Processes of the environment's user running on the service directory, all below `pid`. */
  readonly onDir: readonly number[]
  /** Whether the recorded process, or any of those on the directory, still runs (same start times). */
  alive(): boolean
}

/**
 * Keeps one server per service directory across control-plane crashes: before a server starts, whatever
 * still runs on that directory (the recorded server of a previous control plane, or any process of the
 * environment's user whose command line names the directory: what the engine's own pid/lock file would
 * name, found without reading a file the tenant's user can write) is stopped; each server started is
 * recorded like the apps (process-records.ts). A recorded server that is provably the one started on the
 * directory (pid + start time + boot id, and every process on the directory below it) can be adopted
 * instead (`adoptable`).
 */
export function createServerGuard(dataDir: string, options: { readonly outputCapBytes?: number } = {}) {
  const records = createProcessRecords(dataDir)
  const output = createServiceOutput(dataDir, options.outputCapBytes)
  const serverRecord = (environmentId: string, serviceId: string): ProcessRecord | undefined =>
    records.list(environmentId).find((r) => r.role === 'service' && r.instanceId === serviceId)
  return {
    /** Servers' output files, which outlive the control plane (service-output.ts). */
    output,
    async stopStray(
      environmentId: string,
      serviceId: string,
      dir: string,
      runAs: { readonly uid: number } | null,
    ): Promise<number> {
      let n = 0
      for (const r of records.list(environmentId))
        if (r.role === 'service' && r.instanceId === serviceId) {
          if (isAlive(r)) {
            await stopPid(r.pid, r.startTime, STRAY_GRACE_MS)
            n++
          }
          records.remove(r)
        }
      const uid = runAs?.uid ?? process.getuid?.() ?? 0
      for (const pid of processesOf(uid, dir)) {
        if (pid === process.pid) continue
        await stopPid(pid, processStartTime(pid), STRAY_GRACE_MS)
        n++
      }
      return n
    },

    /**
     * The live recorded server of the service, if it can be taken over: its record matches the live process
     * (pid, start time, boot id), at least one process of the environment's user runs on `dir`, and every
     * such process descends from the recorded one (no second server on the directory). Anything else: null
     * (the caller stops what runs there and starts afresh).
     */
    adoptable(
      environmentId: string,
      serviceId: string,
      dir: string,
      runAs: { readonly uid: number } | null,
    ): RecordedServer | null {
      const rec = serverRecord(environmentId, serviceId)
      if (!rec || !isAlive(rec)) return null
      const uid = runAs?.uid ?? process.getuid?.() ?? 0
      const onDir = processesOf(uid, dir)
      if (onDir.length === 0 || !onDir.every((pid) => descendsFrom(pid, rec.pid))) return null
      const seen = [rec, ...onDir.map((pid) => ({ pid, startTime: processStartTime(pid) }))]
      return {
        pid: rec.pid,
        startTime: rec.startTime,
        onDir,
        alive: () => seen.some((p) => p.startTime !== null && processStartTime(p.pid) === p.startTime),
      }
    },

    /**
     * Stops recorded servers that `wanted(environmentId, serviceId)` refuses (services deleted or stopped by a
     * control plane that died before their server was stopped) and drops their records; returns how many ran.
     */
    async stopUnwanted(wanted: (environmentId: string, serviceId: string) => boolean): Promise<number> {
      let n = 0
      for (const r of records.list()) {
        if (r.role !== 'service' || wanted(r.environmentId, r.instanceId)) continue
        if (isAlive(r)) {
          await stopPid(r.pid, r.startTime, STRAY_GRACE_MS)
          n++
        }
        records.remove(r)
      }
      return n
    },

    spawned(environmentId: string, serviceId: string, pid: number | null): void {
      const about = { environmentId, instanceId: serviceId, role: 'service' as const }
      if (pid === null) return records.remove(about)
      records.write({ ...about, pid, release: null, deploymentId: null, ports: [], socketPath: null })
    },
  }
}
export type ServerGuard = ReturnType<typeof createServerGuard>

/** Whether `pid` is `ancestor` or runs below it (parent links read from /proc). */
function descendsFrom(pid: number, ancestor: number): boolean {
  let p = pid
  for (let i = 0; i < 64 && p > 1; i++) {
    if (p === ancestor) return true
    try {
      const st = readFileSync(`/proc/${p}/stat`, 'utf8')
      p = Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1])
    } catch {
      return false
    }
  }
  return false
}
