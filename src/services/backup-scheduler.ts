import type { Logger } from '../shared/log.js'
import type { Backups } from './backups.js'

/** How often `palisade serve` looks for due backup schedules, ms (a schedule's period is whole hours). */
export const DEFAULT_BACKUP_SCHEDULER_INTERVAL_MS = 60_000

export interface BackupScheduler {
  /** Starts checking every `intervalMs` (idempotent). */
  start(): void
  /** Runs one check now and answers how many schedules ran (tests, and the first check at start). */
  tick(): Promise<number>
  /** Stops the timer and waits for the run in progress (a backup being written is finished, not cut). */
  stop(): Promise<void>
}

/**
 * The timer behind scheduled backups. The decisions (what is due, retention) live in
 * `backups.runDueSchedules`, which reads the backups' clock, so tests move time with a fixed clock and a
 * short interval. Runs never overlap: a tick that finds the previous one still working does nothing.
 */
export function createBackupScheduler(opts: {
  readonly backups: Pick<Backups, 'runDueSchedules'>
  readonly intervalMs?: number
  readonly logger?: Logger
}): BackupScheduler {
  const o = Object.freeze({ ...opts })
  const intervalMs = o.intervalMs ?? DEFAULT_BACKUP_SCHEDULER_INTERVAL_MS
  let timer: NodeJS.Timeout | undefined
  let stopped = false
  let current: Promise<number> | undefined

  const tick = (): Promise<number> => {
    if (current) return current
    const run = o.backups
      .runDueSchedules(() => stopped)
      .catch((err: unknown) => {
        o.logger?.error({ err }, 'backup scheduler: checking schedules failed')
        return 0
      })
      .finally(() => {
        current = undefined
      })
    current = run
    return run
  }

  return {
    start() {
      if (timer || stopped) return
      timer = setInterval(() => void tick(), intervalMs)
      timer.unref()
    },
    tick,
    async stop() {
      stopped = true
      if (timer) clearInterval(timer)
      timer = undefined
      await current
    },
  }
}
