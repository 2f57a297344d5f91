import type { AuditLog } from '../audit/index.js'
import type { Database, Dialect, Kysely } from '../store/index.js'
import type { Clock } from '../shared/clock.js'
import type { SecretBox } from '../shared/secret-box.js'
import { InvalidError } from '../shared/errors.js'

export interface TenancyDeps {
  readonly db: Kysely<Database>
  readonly dialect: Dialect
  readonly clock: Clock
  readonly audit: AuditLog
  readonly secrets: SecretBox
  readonly baseDomain: string
  /**
   * What an environment holds outside tenancy's tables (its services, its backups), so that a deletion can
   * say what would be lost; absent in API-only set-ups (nothing is held there).
   */
  readonly environmentContents?: (environmentId: string) => Promise<{ services: string[]; backups: number }>
  /**
   * Checks a project's repository when it is set (throws an `invalid` error), so that a repository that can
   * never be deployed (a local path that does not exist, or lies outside the allowed roots) is refused at once
   * rather than at the first deployment. Absent: only the form is checked.
   */
  readonly checkRepository?: (repository: string) => void
  /** The runtime a new project gets when it names none. */
  readonly defaultRuntime?: string
}

/**
 * The runtime of new projects that name none: the newest Node.js LTS major in the shipped catalog that is
 * not past its end of life (a test checks this against the catalog, so an outdated default fails CI).
 */
export const DEFAULT_RUNTIME = 'node@26'

export interface Page<T> {
  readonly items: T[]
  readonly nextCursor: string | null
}

export interface PageRequest {
  readonly cursor?: string | undefined
  readonly limit?: number | undefined
}

export const DEFAULT_PAGE = 50
export const MAX_PAGE = 200

/** Opaque keyset cursor: the sort key of the last item. */
export function encodeCursor(key: string): string {
  return Buffer.from(JSON.stringify({ k: key }), 'utf8').toString('base64url')
}

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { k?: unknown }
    if (typeof v.k === 'string') return v.k
  } catch {
    // fall through to the error below
  }
  throw new InvalidError('PAL_TENANCY_CURSOR_INVALID', 'cursor is not valid', {
    details: [{ field: 'cursor', message: 'not valid' }],
  })
}

export function pageLimit(limit: number | undefined): number {
  return Math.min(Math.max(limit ?? DEFAULT_PAGE, 1), MAX_PAGE)
}

export function pageOf<T>(rows: T[], limit: number, key: (t: T) => string): Page<T> {
  const more = rows.length > limit
  const items = more ? rows.slice(0, limit) : rows
  const last = items[items.length - 1]
  return { items, nextCursor: more && last !== undefined ? encodeCursor(key(last)) : null }
}
