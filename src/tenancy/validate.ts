import { InvalidError } from '../shared/errors.js'
import { TENANCY_ERRORS } from './errors.js'

/** DESIGN.md §9: names of workspaces, projects and environments. */
export const NAME_PATTERN = '^[a-z][a-z0-9-]{1,62}$'
const NAME = new RegExp(NAME_PATTERN)

export function invalid(field: string, message: string, code: string = TENANCY_ERRORS.invalidField): never {
  throw new InvalidError(code, `${field} ${message}`, { details: [{ field, message }] })
}

export function assertName(field: string, value: string): void {
  if (!NAME.test(value) || value.endsWith('-') || value.includes('--')) {
    invalid(
      field,
      'must start with a letter and hold 2–63 lowercase letters, digits or single hyphens, not ending in a hyphen',
      TENANCY_ERRORS.invalidName,
    )
  }
}

/**
 * Git repository URLs: https://, file:// or an absolute local path. Refused: `ext::` and other
 * transport helpers (command execution), a leading `-` (option injection into git), credentials in
 * the URL (they would leak into logs), control characters and whitespace.
 */
export function assertRepository(value: string): void {
  if (value.length > 2048) invalid('repository', 'must be at most 2048 characters')
  if (/[\s\x00-\x1f\x7f]/.test(value))
    invalid('repository', 'must not contain whitespace or control characters')
  if (value.startsWith('-')) invalid('repository', 'must not start with "-"')
  if (/^[a-z][a-z0-9+.-]*::/i.test(value))
    invalid('repository', 'transport helpers (such as ext::) are not allowed')
  if (value.startsWith('/')) {
    if (value.split('/').includes('..')) invalid('repository', 'must not contain ".." segments')
    return
  }
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return invalid('repository', 'must be an https:// or file:// URL or an absolute path')
  }
  if (url.protocol !== 'https:' && url.protocol !== 'file:')
    invalid('repository', 'must be an https:// or file:// URL or an absolute path')
  if (url.username || url.password)
    invalid('repository', 'must not hold credentials; use a deploy key or token')
  if (url.protocol === 'file:' && decodeURIComponent(url.pathname).split('/').includes('..'))
    invalid('repository', 'must not contain ".." segments')
}

/** Git branch names (subset of git-check-ref-format that is safe to pass as an argument). */
export function assertBranch(value: string): void {
  const ok =
    /^[A-Za-z0-9._/-]{1,200}$/.test(value) &&
    !value.startsWith('-') &&
    !value.startsWith('/') &&
    !value.endsWith('/') &&
    !value.endsWith('.lock') &&
    !value.includes('..') &&
    !value.includes('//')
  if (!ok) invalid('branch', 'must be a valid git branch name')
}

export const RUNTIME_PATTERN =
  '^((node|php|python|ruby)@[0-9]+(\\.[0-9]+){0,2}|static|custom:[A-Za-z0-9][A-Za-z0-9._/:@-]{0,254})$'
const RUNTIME = new RegExp(RUNTIME_PATTERN)
export function assertRuntime(field: string, value: string): void {
  if (!RUNTIME.test(value)) invalid(field, 'must be like node@20, php@8.2, static or custom:<image>')
}

/** Relative directory inside the release (no absolute paths, no traversal). */
export function assertPersistentDir(value: string): void {
  const parts = value.split('/')
  const bad =
    value.length === 0 ||
    value.length > 200 ||
    value.startsWith('/') ||
    parts.some((p) => p === '' || p === '.' || p === '..') ||
    !/^[A-Za-z0-9._/-]+$/.test(value)
  if (bad)
    invalid(
      'persistentDirs',
      `${JSON.stringify(value)} must be a relative path inside the release, without . or .. segments`,
    )
}

export function assertTimeZone(value: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value })
  } catch {
    invalid('maintenanceWindow.timezone', 'must be an IANA time zone such as Europe/Paris')
  }
}

export const VARIABLE_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_]{0,127}$'
/** Set by the platform itself; a user value would be overwritten or would break the app. */
const RESERVED_VARIABLES = new Set(['PORT', 'DATABASE_URL', 'REDIS_URL'])
export function assertVariableName(value: string): void {
  if (!new RegExp(VARIABLE_NAME_PATTERN).test(value)) invalid('name', 'must match ' + VARIABLE_NAME_PATTERN)
  if (RESERVED_VARIABLES.has(value) || value.startsWith('PALISADE_')) {
    invalid('name', 'is set by the platform and cannot be overridden', TENANCY_ERRORS.reservedVariable)
  }
}
