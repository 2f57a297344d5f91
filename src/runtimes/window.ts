import type { MaintenanceWindow } from '../tenancy/index.js'

/** One occurrence of a weekly maintenance window, as instants. */
export interface WindowOccurrence {
  readonly start: Date
  readonly end: Date
}

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const
const formatters = new Map<string, Intl.DateTimeFormat>()

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone)
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    })
    formatters.set(timeZone, f)
  }
  return f
}

interface Wall {
  readonly year: number
  readonly month: number
  readonly day: number
  readonly hour: number
  readonly minute: number
  readonly second: number
}

/** The wall-clock reading of instant `ms` in `timeZone`. */
function wallAt(ms: number, timeZone: string): Wall {
  const parts: Record<string, number> = {}
  for (const p of formatter(timeZone).formatToParts(new Date(ms)))
    if (p.type !== 'literal') parts[p.type] = Number(p.value)
  return {
    year: parts.year ?? 0,
    month: parts.month ?? 1,
    day: parts.day ?? 1,
    hour: parts.hour ?? 0,
    minute: parts.minute ?? 0,
    second: parts.second ?? 0,
  }
}

/** UTC offset of `timeZone` at instant `ms`, in ms (Paris in summer: +7_200_000). Seconds are ignored (whole-minute zones since 1972). */
function offsetAt(ms: number, timeZone: string): number {
  const w = wallAt(ms, timeZone)
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second)
  return asUtc - Math.floor(ms / 1000) * 1000
}

/**
 * The instant at which the wall clock in `timeZone` reads the given local date and time.
 * DST gaps (the time does not exist, e.g. 02:30 on a spring-forward night) resolve forward by the
 * length of the gap (03:30); DST overlaps (the time happens twice) resolve to the earlier instant.
 * These are the `compatible` rules of Temporal and of most calendar software.
 */
export function zonedInstant(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  timeZone: string,
): Date {
  const local = Date.UTC(year, month - 1, day, hour, minute)
  // Offsets a day either side bracket any one transition (zones change at most once a day).
  const before = offsetAt(local - 86_400_000, timeZone)
  const after = offsetAt(local + 86_400_000, timeZone)
  const candidates = [local - before, local - after].filter((t) => offsetAt(t, timeZone) === local - t)
  if (candidates.length > 0) return new Date(Math.min(...candidates))
  // A gap: no instant reads this wall time. Using the offset before the gap moves it forward by the gap.
  return new Date(local - before)
}

/** The occurrence of `window` that starts on local calendar date `year-month-day`. */
function occurrenceOn(window: MaintenanceWindow, year: number, month: number, day: number): WindowOccurrence {
  const [h, m] = window.start.split(':').map(Number) as [number, number]
  const start = zonedInstant(year, month, day, h, m, window.timezone)
  // The duration is elapsed time: a window over a DST change lasts exactly durationMinutes.
  return { start, end: new Date(start.getTime() + window.durationMinutes * 60_000) }
}

/**
 * The window occurrence in progress at `at`, or else the next one to start after it.
 * @example windowAt({ day: 'sun', start: '02:00', durationMinutes: 120, timezone: 'Europe/Paris' }, new Date())
 */
export function windowAt(window: MaintenanceWindow, at: Date): WindowOccurrence {
  const t = at.getTime()
  const today = wallAt(t, window.timezone)
  // Start one day back: a window of up to 12 h that began yesterday evening may still be running.
  for (let i = -1; i <= 8; i++) {
    const date = new Date(Date.UTC(today.year, today.month - 1, today.day + i))
    if (DAYS[date.getUTCDay()] !== window.day) continue
    const occ = occurrenceOn(window, date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate())
    if (occ.end.getTime() > t) return occ
  }
  /* c8 ignore next */
  throw new Error('unreachable: a weekly window occurs within 8 days')
}

/** The `n`-th occurrence (0 = `windowAt(at)`) of the window from `at` on. */
export function nthWindow(window: MaintenanceWindow, at: Date, n: number): WindowOccurrence {
  let occ = windowAt(window, at)
  for (let i = 0; i < n; i++) occ = windowAt(window, occ.end)
  return occ
}

/** Whether `at` falls inside an occurrence of the window. */
export function isInWindow(window: MaintenanceWindow, at: Date): boolean {
  return windowAt(window, at).start.getTime() <= at.getTime()
}
