import { InvalidError } from '../../shared/errors.js'
import { RUNTIME_ERRORS } from '../errors.js'
import { compareVersions, getVersion, parseVersion } from '../semver.js'
import type { MajorInfo, RuntimeCatalog, RuntimeEntry, VersionInfo } from './types.js'

const DATE = /^\d{4}-\d{2}-\d{2}$/
export const INTEGRITY = /^sha512-[A-Za-z0-9+/]{86}==$/

function fail(message: string): never {
  throw new InvalidError(RUNTIME_ERRORS.catalogInvalid, `runtime catalog: ${message}`)
}
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)
const isInstant = (v: unknown): v is string =>
  typeof v === 'string' && v.length <= 40 && !Number.isNaN(Date.parse(v))

function major(v: unknown, where: string): MajorInfo {
  if (!isObject(v)) fail(`${where} is not an object`)
  const { major, releasedAt, ltsFrom, eolAt, eolEstimated } = v
  if (typeof major !== 'number' || !Number.isInteger(major) || major < 0)
    fail(`${where}.major must be an integer`)
  for (const [k, d] of [
    ['releasedAt', releasedAt],
    ['eolAt', eolAt],
  ] as const)
    if (typeof d !== 'string' || !DATE.test(d)) fail(`${where}.${k} must be YYYY-MM-DD`)
  if (ltsFrom !== null && (typeof ltsFrom !== 'string' || !DATE.test(ltsFrom)))
    fail(`${where}.ltsFrom must be YYYY-MM-DD or null`)
  const out: MajorInfo = {
    major,
    releasedAt: releasedAt as string,
    ltsFrom: ltsFrom,
    eolAt: eolAt as string,
  }
  return eolEstimated === true ? { ...out, eolEstimated: true } : out
}

function version(v: unknown, where: string): VersionInfo {
  if (!isObject(v)) fail(`${where} is not an object`)
  const { version, releasedAt, security, advisories, integrity } = v
  if (typeof version !== 'string' || !parseVersion(version)) fail(`${where}.version must be like 20.11.1`)
  if (!isInstant(releasedAt)) fail(`${where}.releasedAt must be an ISO instant`)
  if (typeof security !== 'boolean') fail(`${where}.security must be a boolean`)
  if (!Array.isArray(advisories) || !advisories.every((a) => typeof a === 'string' && a.length <= 300))
    fail(`${where}.advisories must be strings`)
  if (integrity !== undefined && (typeof integrity !== 'string' || !INTEGRITY.test(integrity)))
    fail(`${where}.integrity must be a sha512 SRI string`)
  const out: VersionInfo = { version, releasedAt, security, advisories: advisories as string[] }
  return integrity === undefined ? out : { ...out, integrity: integrity }
}

/** Checks a catalog read from disk or built by a refresh; versions come back sorted ascending. */
export function validateCatalog(value: unknown): RuntimeCatalog {
  if (!isObject(value)) fail('not an object')
  if (!isInstant(value.generatedAt)) fail('generatedAt must be an ISO instant')
  if (!Array.isArray(value.sources) || !value.sources.every((s) => typeof s === 'string'))
    fail('sources must be strings')
  if (!isObject(value.runtimes)) fail('runtimes must be an object')
  const runtimes: Record<string, RuntimeEntry> = {}
  for (const [name, entry] of Object.entries(value.runtimes)) {
    if (!/^[a-z]{2,20}$/.test(name)) fail(`runtime name ${JSON.stringify(name.slice(0, 30))} is invalid`)
    if (!isObject(entry) || !Array.isArray(entry.majors) || !Array.isArray(entry.versions))
      fail(`${name} needs majors and versions`)
    const majors = entry.majors.map((m, i) => major(m, `${name}.majors[${i}]`))
    const versions = entry.versions.map((v, i) => version(v, `${name}.versions[${i}]`))
    versions.sort((a, b) => compareVersions(getVersion(a.version), getVersion(b.version)))
    if (new Set(versions.map((v) => v.version)).size !== versions.length)
      fail(`${name} lists a version twice`)
    runtimes[name] = { name, majors, versions }
  }
  return { generatedAt: value.generatedAt, sources: value.sources, runtimes }
}
