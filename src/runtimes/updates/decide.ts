import type { MaintenanceWindow } from '../../tenancy/index.js'
import type { PlanStep, RuntimePlan } from '../planner.js'
import { isInWindow, windowAt } from '../window.js'

/** When the scheduler warns and backs off (docs/runtimes.md explains each number). */
export interface SchedulerPolicy {
  /** A planned update is announced once it is due within this many days (weekly windows: the next one). */
  readonly noticeAheadDays: number
  /** End-of-life notices are sent this many days before the date (or at once when it has passed). */
  readonly eolNoticeDays: number
  /** After a failure outside any window (no window, or a forced security deadline), wait this long. */
  readonly retryWithoutWindowHours: number
}

export const SCHEDULER_POLICY: SchedulerPolicy = Object.freeze({
  noticeAheadDays: 7,
  eolNoticeDays: 30,
  retryWithoutWindowHours: 24,
})

export type UpdateKind = 'patch' | 'security' | 'minor'

/** The update to apply now. */
export interface UpdateToApply {
  readonly version: string
  readonly from: string | null
  readonly kind: UpdateKind
  /** When the plan said the step was due. */
  readonly due: string
  readonly reason: string
  /** True when applied outside the maintenance window (a security deadline, or no window at all). */
  readonly outsideWindow: boolean
}

/** A notification to send unless its key was sent before. */
export type Notice =
  | {
      readonly kind: 'planned'
      readonly key: string
      readonly version: string
      readonly from: string | null
      readonly stepKind: UpdateKind
      readonly due: string
      readonly reason: string
    }
  | {
      readonly kind: 'eol'
      readonly key: string
      readonly major: number
      readonly date: string
      readonly status: 'upcoming' | 'reached'
      readonly options: readonly string[]
    }

export interface DecisionInput {
  /** The environment's plan, computed with its postponement. */
  readonly plan: RuntimePlan
  readonly window: MaintenanceWindow | null
  readonly now: Date
  /** After a failed update, nothing is applied before this instant. */
  readonly retryAfter: Date | null
  /** A runtime update of this environment is still running. */
  readonly inProgress: boolean
  /** Keys of the notifications already sent for this environment. */
  readonly notified: ReadonlySet<string>
  readonly policy?: Partial<SchedulerPolicy>
}

export interface Decision {
  readonly apply: UpdateToApply | null
  /** Why nothing is applied now (for the log); null when applying or when there is nothing to do. */
  readonly waiting: string | null
  readonly notices: readonly Notice[]
}

const DAY = 86_400_000
const isUpdate = (s: PlanStep): s is PlanStep & { kind: UpdateKind; version: string } =>
  (s.kind === 'patch' || s.kind === 'security' || s.kind === 'minor') && s.version !== null

/**
 * What the runtime scheduler does for one environment now. Pure.
 * - The planner already placed each step in the maintenance window (or at the security deadline, or at
 *   once without a window, or later when postponed), so the first update step is applied when its `due`
 *   has come; never while an update is running, and never before `retryAfter` (back-off after a failure).
 * - A planned update is announced once it is due within `noticeAheadDays`; each (version, due) once.
 * - An end of life is announced once, `eolNoticeDays` before the date, unless the deprecated channel was chosen.
 * @example decideRuntimeUpdate({ plan, window, now, retryAfter: null, inProgress: false, notified: new Set() })
 */
export function decideRuntimeUpdate(input: DecisionInput): Decision {
  const policy: SchedulerPolicy = { ...SCHEDULER_POLICY, ...input.policy }
  const now = input.now.getTime()
  const notices: Notice[] = []
  const first = input.plan.steps.find(isUpdate)
  let apply: UpdateToApply | null = null
  let waiting: string | null = null

  if (first) {
    const due = Date.parse(first.due)
    if (due <= now) {
      if (input.inProgress) waiting = `an update to ${first.version} is in progress`
      else if (input.retryAfter && now < input.retryAfter.getTime())
        waiting = `a runtime update failed; the next attempt is not before ${input.retryAfter.toISOString()}`
      else
        apply = {
          version: first.version,
          from: first.from ?? input.plan.current,
          kind: first.kind,
          due: first.due,
          reason: first.reason,
          outsideWindow: input.window === null || !isInWindow(input.window, input.now),
        }
    } else {
      waiting = `${first.kind} update to ${first.version} is due ${first.due}`
      const key = `planned:${first.version}:${first.due}`
      if (due - now <= policy.noticeAheadDays * DAY && !input.notified.has(key))
        notices.push({
          kind: 'planned',
          key,
          version: first.version,
          from: first.from ?? input.plan.current,
          stepKind: first.kind,
          due: first.due,
          reason: first.reason,
        })
    }
  }

  const eol = input.plan.eol
  if (eol && !eol.choice) {
    const key = `eol:${eol.major}`
    const at = Date.parse(`${eol.date}T00:00:00.000Z`)
    if (at - now <= policy.eolNoticeDays * DAY && !input.notified.has(key))
      notices.push({
        kind: 'eol',
        key,
        major: eol.major,
        date: eol.date,
        status: eol.status,
        options: eol.options,
      })
  }
  return { apply, waiting, notices }
}

/**
 * When a failed update may be tried again: after the maintenance window it failed in (so the next
 * attempt is in the next window, never in a loop), or `retryWithoutWindowHours` later when it ran
 * outside a window.
 */
export function retryAfterFailure(
  window: MaintenanceWindow | null,
  failedAt: Date,
  policy: Partial<SchedulerPolicy> = {},
): Date {
  const p: SchedulerPolicy = { ...SCHEDULER_POLICY, ...policy }
  if (window && isInWindow(window, failedAt)) return windowAt(window, failedAt).end
  return new Date(failedAt.getTime() + p.retryWithoutWindowHours * 3_600_000)
}

/**
 * The latest instant updates may be postponed to: the earliest step's limit under the planner's policy
 * (`planFar` is the plan computed with a postponement far in the future, so each step sits at its cap:
 * a security release's deadline, or `maxPostponeWindows` windows after a patch or minor's normal date).
 * Null when no update is pending.
 */
export function postponeLimit(planFar: RuntimePlan): Date | null {
  const dues = planFar.steps.filter(isUpdate).map((s) => Date.parse(s.due))
  return dues.length === 0 ? null : new Date(Math.min(...dues))
}
