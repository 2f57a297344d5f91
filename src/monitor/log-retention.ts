import { lstatSync, readdirSync, rmSync } from 'node:fs'
import path from 'node:path'

/** Days a finished deployment's or job's log is kept (size is bounded per log by the deploy log store). */
export const LOG_RETENTION_DAYS = 30
const LOG_FILE_RE = /^([a-z]+_[a-z0-9]{8,40})(\.1)?\.log$/

/**
 * Removes log files under `dir` (the control plane's own `<data>/logs`, 0700 root: no tenant can write or link
 * there) not written for `maxAgeDays`, except the logs of what runs now (`keep`: their keys). Returns how many.
 */
export function pruneOldLogs(
  dir: string,
  keep: ReadonlySet<string>,
  now: number,
  maxAgeDays = LOG_RETENTION_DAYS,
): number {
  let removed = 0
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return 0
  }
  const cut = now - maxAgeDays * 86_400_000
  for (const name of names) {
    const m = LOG_FILE_RE.exec(name)
    if (!m || keep.has(m[1] as string)) continue
    const file = path.join(dir, name)
    const st = lstatSync(file)
    if (!st.isFile() || st.mtimeMs >= cut) continue
    rmSync(file, { force: true })
    removed++
  }
  return removed
}
