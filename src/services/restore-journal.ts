import { existsSync, lstatSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import { writeFileDurably } from '../shared/durable-file.js'
import type { ServiceType } from './engines/engine.js'

/**
 * The journal of a restore in progress (docs/crash-safety.md): written (synced) before any data is replaced,
 * removed once the restore finished or was rolled back. It names the safety copy taken just before: a dump of
 * every service the restore replaces and a copy of every persistent directory, in a root-only directory next
 * to the environment's backups. A control plane that finds a journal at start puts the safety copy back and
 * lifts the maintenance the restore held: an interrupted restore never leaves half-replaced data online.
 */
export interface RestoreJournal {
  readonly v: 1
  readonly environmentId: string
  /** The backup being restored (or the sync's copy). */
  readonly backupId: string
  /** Root-only directory holding `services/<id>.<ext>` and `files/<dir>`. */
  readonly safetyDir: string
  readonly services: ReadonlyArray<{ readonly id: string; readonly type: ServiceType; readonly file: string }>
  readonly files: readonly string[]
  /** The maintenance flag before the restore held it. */
  readonly maintenanceBefore: boolean
  readonly startedAt: string
}

const NAME = 'restore-journal.json'

export function journalPath(backupsDirOfEnv: string): string {
  return path.join(backupsDirOfEnv, NAME)
}

export function writeJournal(backupsDirOfEnv: string, journal: RestoreJournal): void {
  writeFileDurably(journalPath(backupsDirOfEnv), JSON.stringify(journal))
}

export function removeJournal(journal: RestoreJournal, backupsDirOfEnv: string): void {
  rmSync(journalPath(backupsDirOfEnv), { force: true })
  rmSync(journal.safetyDir, { recursive: true, force: true })
}

/** Every journal left under `<data>/backups/<env>/` (root-only). */
export function findJournals(backupsRoot: string): Array<{ dir: string; journal: RestoreJournal }> {
  if (!existsSync(backupsRoot)) return []
  const out: Array<{ dir: string; journal: RestoreJournal }> = []
  for (const env of readdirSync(backupsRoot)) {
    const dir = path.join(backupsRoot, env)
    const file = journalPath(dir)
    try {
      if (!lstatSync(file).isFile()) continue
      const j = JSON.parse(readFileSync(file, 'utf8')) as RestoreJournal
      if (j.v === 1 && j.environmentId === env && j.safetyDir.startsWith(dir + path.sep))
        out.push({ dir, journal: j })
    } catch {
      // no journal here
    }
  }
  return out
}
