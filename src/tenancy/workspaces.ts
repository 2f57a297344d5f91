import { authorize, authorizeAccount, actorOf, memberWorkspaceIds, type Principal } from '../iam/index.js'
import { diffChanges } from '../audit/index.js'
import { isUniqueViolation, type Database, type Transaction, type WorkspacesTable } from '../store/index.js'
import type { RequestContext } from '../shared/context.js'
import { ConflictError, NotFoundError } from '../shared/errors.js'
import { newId } from '../shared/ids.js'
import { decodeCursor, pageLimit, pageOf, type Page, type PageRequest, type TenancyDeps } from './deps.js'
import { TENANCY_ERRORS } from './errors.js'
import { assertName, invalid } from './validate.js'
import { recomputeHosts } from './hosts.js'
import type { TenancyEvents } from './events.js'

export interface Workspace {
  readonly id: string
  readonly name: string
  readonly displayName: string
  readonly requireMfa: boolean
  readonly createdAt: string
  readonly updatedAt: string
}

export interface WorkspacePatch {
  readonly name?: string
  readonly displayName?: string
  readonly requireMfa?: boolean
}

const MAX_DISPLAY_NAME = 100
/**
 * Workspaces one user may own (docs/rationale.md): names are global (they are part of every host name), so
 * an unbounded number would let one account squat them.
 */
export const MAX_OWNED_WORKSPACES = 10
/** Names that read as the platform's own (hosts, console paths): refused like a taken name. */
const RESERVED_NAMES: ReadonlySet<string> = new Set([
  'admin',
  'api',
  'console',
  'git',
  'palisade',
  'setup',
  'status',
  'www',
])

/**
 * One answer for a reserved name and a name in use anywhere: the refusal does not say whether (or by whom)
 * it is taken, only that this name cannot be had.
 */
const nameUnavailable = (name: string): ConflictError =>
  new ConflictError(
    TENANCY_ERRORS.nameUnavailable,
    `the workspace name ${name} is not available: choose another`,
    { publicCode: 'name_unavailable' },
  )

export function toWorkspace(r: WorkspacesTable): Workspace {
  return {
    id: r.id,
    name: r.name,
    displayName: r.display_name,
    requireMfa: r.require_mfa === 1,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  }
}

function notFound(): NotFoundError {
  return new NotFoundError(TENANCY_ERRORS.notFound, 'workspace not found', { publicCode: 'not_found' })
}

/** A workspace path segment is its id or its name. */
export async function findWorkspaceRow(deps: TenancyDeps, ref: string): Promise<WorkspacesTable | undefined> {
  if (ref.length > 100) return undefined
  return deps.db
    .selectFrom('workspaces')
    .selectAll()
    .where((eb) => eb.or([eb('id', '=', ref), eb('name', '=', ref)]))
    .executeTakeFirst()
}

export async function insertWorkspace(
  trx: Transaction<Database>,
  at: Date,
  ownerId: string,
  name: string,
  displayName?: string,
): Promise<Workspace> {
  assertName('name', name)
  if (displayName !== undefined && displayName.length > MAX_DISPLAY_NAME)
    invalid('displayName', `must be at most ${MAX_DISPLAY_NAME} characters`)
  if (RESERVED_NAMES.has(name)) throw nameUnavailable(name)
  const now = at.toISOString()
  const row: WorkspacesTable = {
    id: newId('wsp'),
    name,
    display_name: displayName ?? name,
    require_mfa: 0,
    created_at: now,
    updated_at: now,
  }
  try {
    await trx.insertInto('workspaces').values(row).execute()
  } catch (error) {
    if (isUniqueViolation(error)) throw nameUnavailable(name)
    throw error
  }
  await trx
    .insertInto('memberships')
    .values({ workspace_id: row.id, user_id: ownerId, role: 'owner', created_at: now })
    .execute()
  return toWorkspace(row)
}

export function createWorkspaces(deps: TenancyDeps, events: TenancyEvents) {
  const { db, audit, clock } = deps

  async function load(
    principal: Principal,
    ref: string,
    action: Parameters<typeof authorize>[2],
  ): Promise<WorkspacesTable> {
    const row = await findWorkspaceRow(deps, ref)
    if (!row) throw notFound()
    await authorize(db, principal, action, { type: 'workspace', workspaceId: row.id })
    return row
  }

  return {
    async list(principal: Principal, page: PageRequest): Promise<Page<Workspace>> {
      const ids = await memberWorkspaceIds(db, principal)
      const limit = pageLimit(page.limit)
      const after = page.cursor === undefined ? undefined : decodeCursor(page.cursor)
      if (ids !== 'all' && ids.length === 0) return { items: [], nextCursor: null }
      let q = db.selectFrom('workspaces').selectAll()
      if (ids !== 'all') q = q.where('id', 'in', ids)
      if (after !== undefined) q = q.where('name', '>', after)
      const rows = await q
        .orderBy('name')
        .limit(limit + 1)
        .execute()
      return pageOf(rows.map(toWorkspace), limit, (w) => w.name)
    },

    async get(principal: Principal, ref: string): Promise<Workspace> {
      return toWorkspace(await load(principal, ref, 'workspace.read'))
    },

    /**
     * Any signed-in user (or an admin-scoped token) may create a workspace and becomes its owner, up to
     * `MAX_OWNED_WORKSPACES` owned at once.
     */
    async create(
      principal: Principal,
      ctx: RequestContext,
      input: { name: string; displayName?: string },
    ): Promise<Workspace> {
      const { userId } = authorizeAccount(principal, 'workspace.create')
      return db.transaction().execute(async (trx) => {
        const owned = await trx
          .selectFrom('memberships')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('user_id', '=', userId)
          .where('role', '=', 'owner')
          .executeTakeFirstOrThrow()
        if (Number(owned.n) >= MAX_OWNED_WORKSPACES) {
          throw new ConflictError(
            TENANCY_ERRORS.tooMany,
            `a user owns at most ${MAX_OWNED_WORKSPACES} workspaces: delete one or hand its ownership on`,
            { publicCode: 'limit_reached' },
          )
        }
        const ws = await insertWorkspace(trx, clock.now(), userId, input.name, input.displayName)
        await audit.record(trx, {
          actor: actorOf(principal),
          action: 'workspace.create',
          target: { type: 'workspace', id: ws.id },
          workspaceId: ws.id,
          changes: diffChanges(null, { name: ws.name, displayName: ws.displayName }),
          context: ctx,
        })
        return ws
      })
    },

    async update(
      principal: Principal,
      ctx: RequestContext,
      ref: string,
      patch: WorkspacePatch,
    ): Promise<Workspace> {
      const before = await load(principal, ref, 'workspace.update')
      if (patch.name !== undefined) assertName('name', patch.name)
      if (patch.name !== undefined && patch.name !== before.name && RESERVED_NAMES.has(patch.name))
        throw nameUnavailable(patch.name)
      if (patch.displayName !== undefined && patch.displayName.length > MAX_DISPLAY_NAME)
        invalid('displayName', `must be at most ${MAX_DISPLAY_NAME} characters`)
      let moved: string[] = []
      const result = await db.transaction().execute(async (trx) => {
        const next: WorkspacesTable = {
          ...before,
          name: patch.name ?? before.name,
          display_name: patch.displayName ?? before.display_name,
          require_mfa: patch.requireMfa === undefined ? before.require_mfa : patch.requireMfa ? 1 : 0,
          updated_at: clock.now().toISOString(),
        }
        try {
          await trx.updateTable('workspaces').set(next).where('id', '=', before.id).execute()
        } catch (error) {
          if (isUniqueViolation(error)) throw nameUnavailable(next.name)
          throw error
        }
        if (next.name !== before.name)
          moved = await recomputeHosts(trx, deps.baseDomain, { workspaceId: before.id })
        const ws = toWorkspace(next)
        await audit.record(trx, {
          actor: actorOf(principal),
          action: 'workspace.update',
          target: { type: 'workspace', id: ws.id },
          workspaceId: ws.id,
          changes: diffChanges(pick(toWorkspace(before)), pick(ws)),
          context: ctx,
        })
        return ws
      })
      await events.hostsChanged(moved)
      return result
    },

    /** Refused while projects exist unless `force` (then everything below goes too). */
    async remove(principal: Principal, ctx: RequestContext, ref: string, force: boolean): Promise<void> {
      const ws = await load(principal, ref, 'workspace.delete')
      await db.transaction().execute(async (trx) => {
        const child = await trx
          .selectFrom('projects')
          .select('id')
          .where('workspace_id', '=', ws.id)
          .limit(1)
          .executeTakeFirst()
        if (child && !force) {
          throw new ConflictError(
            TENANCY_ERRORS.hasChildren,
            'workspace still has projects; delete them first, or delete it all with force=true (palisade workspaces delete --force)',
            { publicCode: 'conflict' },
          )
        }
        await trx.deleteFrom('workspaces').where('id', '=', ws.id).execute()
        await audit.record(trx, {
          actor: actorOf(principal),
          action: 'workspace.delete',
          target: { type: 'workspace', id: ws.id },
          workspaceId: ws.id,
          changes: diffChanges({ name: ws.name }, null),
          context: ctx,
        })
      })
    },
  }
}

function pick(w: Workspace): Record<string, unknown> {
  return { name: w.name, displayName: w.displayName, requireMfa: w.requireMfa }
}

export type Workspaces = ReturnType<typeof createWorkspaces>
