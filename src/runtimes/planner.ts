import type { MaintenanceWindow } from '../tenancy/index.js'
import { findMajor, findRuntime, releasedBy, type Release } from './catalog/catalog.js'
import type { RuntimeCatalog, RuntimeEntry } from './catalog/types.js'
import { compareVersions, formatVersion, getVersion, type Version } from './semver.js'
import { settingAllows, type RuntimeSetting } from './setting.js'
import { nthWindow, windowAt } from './window.js'

/** The SemVer update policy (docs/runtimes.md explains each number). */
export interface RuntimePolicy {
  /** A security release is applied at the latest this many days after it was published, window or not. */
  readonly securityDeadlineDays: number
  /** A new minor line waits this many days after its first release, then goes in the next window. */
  readonly minorDelayDays: number
  /** Postponing a patch or minor update moves it by at most this many window occurrences (×7 days without a window). */
  readonly maxPostponeWindows: number
  /** End-of-life notices start this many days before the date. */
  readonly eolNoticeDays: number
}

export const RUNTIME_POLICY: RuntimePolicy = Object.freeze({
  securityDeadlineDays: 30,
  minorDelayDays: 14,
  maxPostponeWindows: 4,
  eolNoticeDays: 180,
})

export type StepKind = 'patch' | 'security' | 'minor' | 'eol-notice' | 'none'

export interface PlanStep {
  readonly kind: StepKind
  /** The version the step installs (for `none` and `eol-notice`, the version concerned). */
  readonly version: string | null
  /** When the step is due (ISO instant). */
  readonly due: string
  /** The rule that justifies the step, in words. */
  readonly reason: string
  readonly from?: string
  /** True when a postponement moved this step. */
  readonly postponed?: boolean
}

export const EOL_OPTIONS = ['custom', 'deprecated channel'] as const

export interface EolInfo {
  readonly major: number
  readonly date: string
  readonly status: 'upcoming' | 'reached'
  /** `upgrade node@24` (when a supported major exists), `custom`, `deprecated channel`. */
  readonly options: readonly string[]
  readonly choice?: 'deprecated channel'
}

export interface RuntimePlan {
  readonly setting: string
  readonly current: string | null
  /** The version the next change installs, if any. */
  readonly target?: string
  readonly steps: readonly PlanStep[]
  readonly eol?: EolInfo
  /** Facts worth knowing that are not steps (a newer major, a fix the setting excludes). */
  readonly notices: readonly string[]
}

export interface PlanInput {
  readonly catalog: RuntimeCatalog
  readonly setting: RuntimeSetting
  /** The exact version the environment runs now; null when it was never deployed. */
  readonly current: string | null
  readonly window: MaintenanceWindow | null
  readonly now: Date
  /** The customer asked to hold updates until then; clamped to the policy's limits. */
  readonly postponedUntil?: Date
  readonly policy?: Partial<RuntimePolicy>
}

const DAY = 86_400_000
const iso = (ms: number): string => new Date(ms).toISOString()
const day = (ms: number): string => iso(ms).slice(0, 10)
const same = (a: Version, b: Version): boolean => a.major === b.major && a.minor === b.minor

interface Action {
  readonly target: Release
  readonly due: number
  readonly reason: string
  readonly postponed: boolean
}

/**
 * Plans the runtime updates of one environment: what is due now and what is scheduled, each step
 * with the rule that justifies it. Pure: the same input always gives the same plan.
 * - patch releases: next maintenance window (no window: at once);
 * - security releases: next window, and never later than `securityDeadlineDays` after publication;
 * - minor releases (`node@20` only): first window after the new minor line is `minorDelayDays` old;
 * - majors: never; end of life: a notice and three options; `custom:` and exact pins: never touched.
 * @example planRuntimeUpdates({ catalog, setting: parseRuntimeSetting('node@20'), current: '20.11.0', window, now: new Date() })
 */
export function planRuntimeUpdates(input: PlanInput): RuntimePlan {
  const policy: RuntimePolicy = { ...RUNTIME_POLICY, ...input.policy }
  const { setting, now, current } = input
  const t0 = now.getTime()
  const none = (version: string | null, reason: string): PlanStep => ({
    kind: 'none',
    version,
    due: iso(t0),
    reason,
  })
  const base = { setting: setting.text, current }

  if (setting.kind === 'custom')
    return {
      ...base,
      steps: [none(current, 'custom runtimes are never changed by the platform')],
      notices: [],
    }
  if (setting.kind === 'static')
    return { ...base, steps: [none(current, 'static sites run no runtime')], notices: [] }
  const entry = findRuntime(input.catalog, setting.runtime)
  if (!entry)
    return {
      ...base,
      steps: [
        none(current, `the catalog has no ${setting.runtime} runtime, so the platform does not update it`),
      ],
      notices: [],
    }

  const released = releasedBy(entry, now)
  const allowed = released.filter((r) => settingAllows(setting, r.v))
  const latest = allowed.at(-1)
  const major = setting.kind === 'exact' ? setting.version.major : setting.major
  const notices: string[] = []
  const eol = eolOf(entry, major, setting.channel, t0, policy)
  const tail: PlanStep[] = []
  if (eol && !eol.choice) {
    tail.push({
      kind: 'eol-notice',
      version: current,
      due: eol.status === 'reached' ? iso(t0) : `${eol.date}T00:00:00.000Z`,
      reason: `${entry.name} ${major} ${eol.status === 'reached' ? 'reached' : 'reaches'} end of life on ${eol.date} and gets no security fixes after it; choose one of: ${eol.options.join(', ')}`,
    })
  } else if (eol?.choice && eol.status === 'reached') {
    notices.push(
      `${entry.name} ${major} is past its end of life (${eol.date}) and runs on the deprecated channel: no security fixes are published for it any more`,
    )
  }
  const newer = newerMajor(entry, major, t0, true)
  if (newer !== undefined)
    notices.push(
      `${entry.name} ${newer} is available; majors are never applied automatically: set the runtime to ${entry.name}@${newer} and deploy`,
    )
  const plan = (steps: PlanStep[], target?: string | null): RuntimePlan => ({
    ...base,
    ...(target === undefined || target === null ? {} : { target }),
    steps: [...steps, ...tail],
    ...(eol ? { eol } : {}),
    notices,
  })

  if (current === null) {
    if (!latest) return plan([none(null, `no released ${entry.name} version matches ${setting.text}`)])
    return plan(
      [
        none(
          latest.version,
          `not deployed yet: the next deployment installs ${latest.version}, the latest release matching ${setting.text}`,
        ),
      ],
      latest.version,
    )
  }
  const cur = getVersion(current)
  if (!settingAllows(setting, cur)) {
    if (!latest) return plan([none(current, `no released ${entry.name} version matches ${setting.text}`)])
    return plan(
      [
        none(
          latest.version,
          `the setting asks for ${setting.text} while ${current} runs: the next deployment you start installs ${latest.version} (the platform never changes a major or a pin on its own)`,
        ),
      ],
      latest.version,
    )
  }
  if (setting.kind === 'exact') {
    const fix = released.find((r) => r.security && r.v.major === cur.major && compareVersions(r.v, cur) > 0)
    if (fix)
      notices.push(
        `security release ${fix.version} (${day(Date.parse(fix.releasedAt))}) is available; an exact pin does not receive it`,
      )
    return plan([none(current, `pinned to exactly ${current}: never changed by the platform`)])
  }

  const steps = simulate(input, policy, released, allowed, cur)
  if (setting.kind === 'minor') {
    const last = steps.at(-1)?.version
    const reached = last === undefined || last === null ? cur : getVersion(last)
    const fix = released.find(
      (r) => r.security && r.v.major === cur.major && !same(r.v, cur) && compareVersions(r.v, reached) > 0,
    )
    if (fix)
      notices.push(
        `security release ${fix.version} (${day(Date.parse(fix.releasedAt))}) is outside the pinned minor ${setting.major}.${setting.minor}; set the runtime to ${entry.name}@${setting.major} to receive it`,
      )
  }
  if (steps.length === 0)
    return plan([none(current, `${current} is the latest release matching ${setting.text}`)])
  return plan(steps, steps[0]?.version ?? current)
}

function simulate(
  input: PlanInput,
  policy: RuntimePolicy,
  released: Release[],
  allowed: Release[],
  start: Version,
): PlanStep[] {
  const { window } = input
  const postponed = input.postponedUntil?.getTime()
  // The same instants come up for every candidate action; time-zone arithmetic (Intl) dominates the cost.
  const seen = new Map<number, number>()
  const at = (ms: number): number => {
    if (!window) return ms
    let due = seen.get(ms)
    if (due === undefined) seen.set(ms, (due = Math.max(ms, windowAt(window, new Date(ms)).start.getTime())))
    return due
  }
  const capOf = (due: number): number =>
    window
      ? nthWindow(window, new Date(due), policy.maxPostponeWindows).start.getTime()
      : due + policy.maxPostponeWindows * 7 * DAY
  const where = window ? 'the next maintenance window' : 'at once (the environment has no maintenance window)'

  /** Applies a postponement, never past the cap (computed only when a postponement applies). */
  const hold = (due: number, cap: (due: number) => number): { due: number; postponed: boolean } => {
    if (postponed === undefined || postponed <= due) return { due, postponed: false }
    return { due: Math.max(due, Math.min(at(postponed), cap(due))), postponed: true }
  }

  const steps: PlanStep[] = []
  let v = start
  let t = input.now.getTime()
  for (let guard = 0; guard < 10; guard++) {
    const ahead = allowed.filter((r) => compareVersions(r.v, v) > 0)
    if (ahead.length === 0) break
    const actions: Action[] = []

    const patch = ahead.filter((r) => same(r.v, v)).at(-1)
    if (patch && !containsFix(ahead, v, patch.v)) {
      const { due, postponed: p } = hold(at(t), capOf)
      actions.push({ target: patch, due, postponed: p, reason: `patch release: applied in ${where}` })
    }

    const fixes = ahead.filter((r) => r.security)
    const firstFix = fixes.reduce<Release | undefined>(
      (a, r) => (a === undefined || r.releasedAt < a.releasedAt ? r : a),
      undefined,
    )
    if (firstFix) {
      // The newest fix's line carries every earlier fix too (Node ships each fix on every supported line).
      const newestFix = fixes.at(-1) as Release
      const target = ahead.filter((r) => same(r.v, newestFix.v)).at(-1) as Release
      const published = Date.parse(firstFix.releasedAt)
      const limit = published + policy.securityDeadlineDays * DAY
      const deadline = Math.max(t, limit)
      const { due, postponed: p } = hold(Math.min(at(t), deadline), () => deadline)
      const when = `${firstFix.version}, published ${day(published)}`
      const why =
        limit <= t
          ? `${when}, is more than ${policy.securityDeadlineDays} days old: overdue, applied at once`
          : limit < at(t)
            ? `the ${policy.securityDeadlineDays}-day deadline for ${when} (${day(limit)}) comes before the next maintenance window: applied at the deadline`
            : `applied in ${where}, and at the latest ${policy.securityDeadlineDays} days after ${when}`
      actions.push({
        target,
        due,
        postponed: p,
        reason: `security release: ${why}${p ? '; postponed, but never past the security deadline' : ''}`,
      })
    }

    if (input.setting.kind === 'major') {
      const lines = new Map<number, Release[]>()
      for (const r of ahead)
        if (r.v.minor !== v.minor) lines.set(r.v.minor, [...(lines.get(r.v.minor) ?? []), r])
      for (const [minor, rs] of lines) {
        // The delay runs from the line's first release (any x.y.z of it), so later patches do not reset it.
        const first = released
          .filter((r) => r.v.major === v.major && r.v.minor === minor)
          .reduce((a, r) => Math.min(a, Date.parse(r.releasedAt)), Infinity)
        const eligible = first + policy.minorDelayDays * DAY
        const base = at(Math.max(t, eligible))
        const { due, postponed: p } = hold(base, capOf)
        const after = window
          ? `in the first maintenance window after ${day(eligible)}`
          : `from ${day(eligible)}`
        actions.push({
          target: rs.at(-1) as Release,
          due,
          postponed: p,
          reason: `minor release: ${v.major}.${minor} was first released ${day(first)}; minor lines wait ${policy.minorDelayDays} days, then go ${after}`,
        })
      }
    }

    if (actions.length === 0) break
    actions.sort((a, b) => a.due - b.due || compareVersions(b.target.v, a.target.v))
    const next = actions[0] as Action
    const kind: StepKind = containsFix(ahead, v, next.target.v)
      ? 'security'
      : same(next.target.v, v)
        ? 'patch'
        : 'minor'
    let reason =
      kind === 'security' && !next.reason.startsWith('security')
        ? `includes a security release; ${next.reason}`
        : next.reason
    if (next.postponed && !reason.includes('postponed'))
      reason += `; postponed, by at most ${policy.maxPostponeWindows} windows`
    steps.push({
      kind,
      version: next.target.version,
      from: formatVersion(v),
      due: iso(next.due),
      reason,
      ...(next.postponed ? { postponed: true } : {}),
    })
    v = next.target.v
    t = next.due
  }
  return steps
}

/** Whether moving from `from` to `to` installs a security release. */
function containsFix(ahead: Release[], from: Version, to: Version): boolean {
  return ahead.some((r) => r.security && compareVersions(r.v, from) > 0 && compareVersions(r.v, to) <= 0)
}

function eolOf(
  entry: RuntimeEntry,
  major: number,
  channel: 'stable' | 'deprecated',
  now: number,
  policy: RuntimePolicy,
): EolInfo | undefined {
  const info = findMajor(entry, major)
  if (!info) return undefined
  const eolAt = Date.parse(`${info.eolAt}T00:00:00.000Z`)
  if (now < eolAt - policy.eolNoticeDays * DAY) return undefined
  const upgrade = newerMajor(entry, major, now, false)
  const options = [...(upgrade === undefined ? [] : [`upgrade ${entry.name}@${upgrade}`]), ...EOL_OPTIONS]
  const status = now >= eolAt ? 'reached' : 'upcoming'
  return {
    major,
    date: info.eolAt,
    status,
    options,
    ...(channel === 'deprecated' ? { choice: 'deprecated channel' as const } : {}),
  }
}

/**
 * The newest supported major above `major`: a line in long-term support if there is one, else
 * (`ltsOnly` false, for end-of-life options) any released line before its end of life.
 */
function newerMajor(entry: RuntimeEntry, major: number, now: number, ltsOnly: boolean): number | undefined {
  const live = entry.majors.filter(
    (m) => m.major > major && Date.parse(m.releasedAt) <= now && Date.parse(`${m.eolAt}T00:00:00.000Z`) > now,
  )
  const lts = live.filter((m) => m.ltsFrom !== null && Date.parse(m.ltsFrom) <= now)
  return (lts.at(-1) ?? (ltsOnly ? undefined : live.at(-1)))?.major
}
