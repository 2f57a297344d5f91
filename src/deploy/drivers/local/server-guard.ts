import { createProcessRecords, isAlive, processesOf, processStartTime, stopPid } from './process-records.js'

/** How long a stray service server gets to shut down cleanly before SIGKILL (its data is crash-safe), ms. */
const STRAY_GRACE_MS = 5_000

/**
 * Keeps one server per service directory across control-plane crashes: before a server starts, whatever
 * still runs on that directory (the recorded server of a previous control plane, or any process of the
 * environment's user whose command line names the directory: what the engine's own pid/lock file would
 * name, found without reading a file the tenant's user can write) is stopped; each server started is
 * recorded like the apps (process-records.ts).
 */
export function createServerGuard(dataDir: string) {
  const records = createProcessRecords(dataDir)
  return {
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
    spawned(environmentId: string, serviceId: string, pid: number | null): void {
      const about = { environmentId, instanceId: serviceId, role: 'service' as const }
      if (pid === null) return records.remove(about)
      records.write({ ...about, pid, release: null, deploymentId: null, ports: [], socketPath: null })
    },
  }
}
export type ServerGuard = ReturnType<typeof createServerGuard>
