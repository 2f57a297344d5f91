import { existsSync, lstatSync, readFileSync } from 'node:fs'
import path from 'node:path'
import type { Config } from '../config/index.js'
import {
  createProcessRecords,
  inspectProcesses,
  processStartTime,
  reapProcesses,
  type ProcessRecord,
} from '../deploy/index.js'
import { openStore } from '../store/index.js'
import type { CheckResult } from './checks.js'

/** The control plane's own record (`<data>/serve.pid`, written by `palisade serve`): whether it runs now. */
export function servingPid(dataDir: string): number | null {
  const file = path.join(dataDir, 'serve.pid')
  try {
    if (!existsSync(file) || !lstatSync(file).isFile()) return null
    const rec = JSON.parse(readFileSync(file, 'utf8')) as { pid?: unknown; startTime?: unknown }
    if (typeof rec.pid !== 'number' || typeof rec.startTime !== 'string') return null
    return processStartTime(rec.pid) === rec.startTime ? rec.pid : null
  } catch {
    return null
  }
}

interface Wanted {
  /** environment id → its current release (null: none yet). */
  readonly releases: Map<string, number | null>
  /** service ids that should run. */
  readonly services: Set<string>
}

async function wanted(config: Config): Promise<Wanted | null> {
  if (config.databaseUrl.startsWith('sqlite:') && !existsSync(config.databaseUrl.slice('sqlite:'.length)))
    return null
  const store = openStore(config.databaseUrl)
  try {
    const envs = await store.db.selectFrom('environments').select('id').execute()
    const states = await store.db
      .selectFrom('deploy_states')
      .select(['environment_id', 'current_release'])
      .execute()
    const services = await store.db
      .selectFrom('services')
      .select('id')
      .where('status', 'in', ['running', 'provisioning'])
      .execute()
    const releases = new Map<string, number | null>(envs.map((e) => [e.id, null]))
    for (const s of states)
      if (releases.has(s.environment_id)) releases.set(s.environment_id, s.current_release)
    return { releases, services: new Set(services.map((s) => s.id)) }
  } finally {
    await store.close()
  }
}

/** Whether a live recorded process is one the store says should run (transient roles count while serving). */
function isWanted(r: ProcessRecord, w: Wanted, serving: boolean): boolean {
  if (!w.releases.has(r.environmentId)) return false
  if (r.role === 'service') return w.services.has(r.instanceId)
  if (r.role === 'app' || r.role === 'bridge')
    return r.release === null ? serving : r.release === w.releases.get(r.environmentId)
  // Builds, jobs and tools die with the control plane that ran them.
  return serving
}

function describe(r: { environmentId: string; role: string; instanceId: string; pid: number }): string {
  return `${r.environmentId} ${r.role} ${r.instanceId} (pid ${r.pid})`
}

/**
 * `palisade doctor`'s `processes` check: what the platform started that runs now, against the store. Orphans
 * (an environment or service that is gone, a release that is not the current one, anything left while no
 * control plane runs), duplicates (two app instances of one environment) and unrecorded processes carrying
 * the platform's marker are listed. Reads only.
 */
export async function checkProcesses(config: Config): Promise<CheckResult> {
  const check = 'processes'
  if (!existsSync(path.join(config.dataDir, 'sandboxes', 'processes')))
    return { check, status: 'ok', detail: 'no process recorded (nothing deployed yet)' }
  const w = await wanted(config).catch(() => null)
  const serving = servingPid(config.dataDir)
  const seen = inspectProcesses(createProcessRecords(config.dataDir))
  const orphans = w ? seen.live.filter((r) => !isWanted(r, w, serving !== null)) : []
  const problems = [
    ...orphans.map((r) => `orphan ${describe(r)}${r.release === null ? '' : ` release ${r.release}`}`),
    ...seen.duplicates.map((r) => `duplicate ${describe(r)} release ${r.release ?? '-'}`),
    ...seen.unrecorded.map((r) => `unrecorded ${describe(r)}`),
  ]
  const running =
    serving === null ? 'the control plane is not running' : `the control plane runs (pid ${serving})`
  if (problems.length === 0)
    return {
      check,
      status: 'ok',
      detail: `${seen.live.length} recorded processes, all wanted by the store; ${running}`,
    }
  return {
    check,
    status: 'warn',
    detail: `${problems.length} process(es) that should not run (${running}; \`palisade doctor --stop-leftovers\` stops them when it is not; a start reconciles them): ${problems.slice(0, 20).join('; ')}${problems.length > 20 ? '; …' : ''}`,
  }
}

/**
 * Stops every process the platform started on this data directory (recorded or marked): for the service
 * manager after the control plane stopped for good (deploy/systemd/palisade.service). Refuses while
 * `palisade serve` runs on the data directory: that one owns its processes.
 */
export async function stopLeftovers(config: Config): Promise<{ stopped: number; refused: string | null }> {
  const serving = servingPid(config.dataDir)
  if (serving !== null)
    return { stopped: 0, refused: `palisade serve runs on ${config.dataDir} (pid ${serving}); stop it first` }
  const stopped = await reapProcesses(createProcessRecords(config.dataDir), {
    keep: () => false,
    graceMs: 10_000,
  })
  return { stopped: stopped.length, refused: null }
}
