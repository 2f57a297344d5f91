import { InvalidError } from '../shared/errors.js'
import { RUNTIME_ERRORS } from './errors.js'
import type { Version } from './semver.js'

/** `stable` (default) or `deprecated`: keep running a major past its end of life, knowingly. */
export const CHANNELS = ['stable', 'deprecated'] as const
export type Channel = (typeof CHANNELS)[number]

/**
 * An environment's runtime setting, parsed.
 * - `node@20`: tracks the major; the platform picks patches and minors.
 * - `node@20.11`: pins the minor; the platform picks patches only.
 * - `node@20.11.1`: pins the exact version; never changed by the platform.
 * - `custom:<image>`: the customer's own runtime; never changed by the platform.
 * - `static`: no runtime at all.
 */
export type RuntimeSetting =
  | {
      readonly kind: 'major'
      readonly runtime: string
      readonly major: number
      readonly channel: Channel
      readonly text: string
    }
  | {
      readonly kind: 'minor'
      readonly runtime: string
      readonly major: number
      readonly minor: number
      readonly channel: Channel
      readonly text: string
    }
  | {
      readonly kind: 'exact'
      readonly runtime: string
      readonly version: Version
      readonly channel: Channel
      readonly text: string
    }
  | { readonly kind: 'custom'; readonly image: string; readonly text: string }
  | { readonly kind: 'static'; readonly text: string }

// Digits as the tenancy RUNTIME_PATTERN accepts them (`node@020` means 20).
const STANDARD = /^([a-z]{2,20})@(\d{1,6})(?:\.(\d{1,6}))?(?:\.(\d{1,6}))?$/
// Same shape as the tenancy RUNTIME_PATTERN custom branch; the image reference is passed as one argv element, never a shell string.
const CUSTOM = /^custom:([A-Za-z0-9][A-Za-z0-9._/:@-]{0,254})$/

/** Parses `node@20`, `node@20.11`, `node@20.11.1`, `custom:<image>` or `static`; throws PAL_RUNTIME_SETTING_INVALID. */
export function parseRuntimeSetting(text: string, channel: Channel = 'stable'): RuntimeSetting {
  if (!CHANNELS.includes(channel)) throw invalid(`channel must be one of ${CHANNELS.join(', ')}`)
  if (text === 'static') return { kind: 'static', text }
  const custom = CUSTOM.exec(text)
  if (custom) return { kind: 'custom', image: custom[1] as string, text }
  const m = STANDARD.exec(text)
  if (!m) throw invalid('runtime must be like node@20, node@20.11, node@20.11.1, static or custom:<image>')
  const runtime = m[1] as string
  const major = Number(m[2])
  if (m[3] === undefined) return { kind: 'major', runtime, major, channel, text }
  const minor = Number(m[3])
  if (m[4] === undefined) return { kind: 'minor', runtime, major, minor, channel, text }
  return { kind: 'exact', runtime, version: { major, minor, patch: Number(m[4]) }, channel, text }
}

function invalid(message: string): InvalidError {
  return new InvalidError(RUNTIME_ERRORS.settingInvalid, message, {
    details: [{ field: 'runtime', message }],
  })
}

/** Whether `v` is a version the setting allows (custom and static allow none). */
export function settingAllows(setting: RuntimeSetting, v: Version): boolean {
  switch (setting.kind) {
    case 'major':
      return v.major === setting.major
    case 'minor':
      return v.major === setting.major && v.minor === setting.minor
    case 'exact':
      return (
        v.major === setting.version.major &&
        v.minor === setting.version.minor &&
        v.patch === setting.version.patch
      )
    default:
      return false
  }
}
