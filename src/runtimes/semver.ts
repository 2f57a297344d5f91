import { InvalidError } from '../shared/errors.js'
import { RUNTIME_ERRORS } from './errors.js'

/** A release version `major.minor.patch`; pre-releases and build tags are not runtimes we run. */
export interface Version {
  readonly major: number
  readonly minor: number
  readonly patch: number
}

const EXACT = /^(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})$/

/** `undefined` for anything that is not a plain release version (`4.1.0-pkg1`, `v20.1.0`, `20.1`). */
export function parseVersion(text: string): Version | undefined {
  const m = EXACT.exec(text)
  if (!m) return undefined
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) }
}

export function getVersion(text: string): Version {
  const v = parseVersion(text)
  if (!v)
    throw new InvalidError(
      RUNTIME_ERRORS.versionInvalid,
      `${JSON.stringify(text.slice(0, 40))} is not a version like 20.11.1`,
    )
  return v
}

export function compareVersions(a: Version, b: Version): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch
}

export function formatVersion(v: Version): string {
  return `${v.major}.${v.minor}.${v.patch}`
}
