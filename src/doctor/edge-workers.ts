import { existsSync, lstatSync, readFileSync } from 'node:fs'
import path from 'node:path'
import type { EdgeWorkersStatus } from '../edge/index.js'
import type { CheckResult } from './checks.js'
import { servingPid } from './processes.js'

/** The supervisor rewrites the status every second; older than this, it is not running. */
const STALE_MS = 10_000
const MIB = 1024 * 1024

/**
 * The edge worker processes of a running `palisade serve` (from `<data>/edge-workers.json`, written by its
 * supervisor, root-only): one summary row, then one row per worker with its pid, snapshot version,
 * requests served, memory and the budget of what its compiled WAFs may remember.
 */
export function checkEdgeWorkers(dataDir: string, now: Date = new Date()): CheckResult[] {
  const file = path.join(dataDir, 'edge-workers.json')
  if (servingPid(dataDir) === null)
    return [{ check: 'edge-workers', status: 'ok', detail: 'palisade serve is not running' }]
  let status: EdgeWorkersStatus
  try {
    if (!existsSync(file) || !lstatSync(file).isFile())
      return [{ check: 'edge-workers', status: 'warn', detail: 'no worker status yet (starting?)' }]
    status = JSON.parse(readFileSync(file, 'utf8')) as EdgeWorkersStatus
  } catch {
    return [{ check: 'edge-workers', status: 'warn', detail: 'the worker status could not be read' }]
  }
  const age = now.getTime() - Date.parse(status.at)
  if (!(age < STALE_MS))
    return [
      {
        check: 'edge-workers',
        status: 'warn',
        detail: `the supervisor's status is ${Math.round(age / 1000)} s old: is the supervisor (pid ${status.supervisorPid}) running?`,
      },
    ]
  const ready = status.workers.filter((w) => w.ready).length
  const behind = status.workers.filter((w) => w.behind)
  const rows: CheckResult[] = [
    {
      check: 'edge-workers',
      status: ready < status.configured || behind.length > 0 ? 'warn' : 'ok',
      detail:
        `${ready} of ${status.configured} serving route snapshot ${status.version}` +
        (behind.length > 0 ? `; behind: ${behind.map((w) => w.pid).join(', ')}` : '') +
        `; ${status.restarts} restart(s); supervisor pid ${status.supervisorPid}` +
        (status.droppedEvents > 0 ? `; ${status.droppedEvents} event(s) dropped` : ''),
    },
  ]
  for (const w of status.workers)
    rows.push({
      check: `edge-worker ${w.pid}`,
      status: !w.ready || w.behind ? 'warn' : 'ok',
      detail:
        `${w.ready ? 'serving' : 'starting'} snapshot ${w.version}, ${w.requests} requests, ` +
        `${Math.round(w.rssBytes / MIB)} MiB rss (${Math.round(w.heapUsedBytes / MIB)} MiB heap), ` +
        `WAF memory budget ${Math.round(w.wafMemoryBudget / MIB)} Mi units, ` +
        // Workers of an older build report no access-line bytes.
        `access lines ${Math.round((w.accessLineBytes ?? 0) / 1024)} KiB, up ${Math.round(w.uptimeMs / 1000)} s`,
    })
  return rows
}
