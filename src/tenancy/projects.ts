import { authorize, actorOf, type Principal } from '../iam/index.js'
import { diffChanges } from '../audit/index.js'
import { isUniqueViolation, type ProjectsTable } from '../store/index.js'
import type { RequestContext } from '../shared/context.js'
import { ConflictError, NotFoundError } from '../shared/errors.js'
import { newId } from '../shared/ids.js'
import {
  DEFAULT_RUNTIME,
  decodeCursor,
  pageLimit,
  pageOf,
  type Page,
  type PageRequest,
  type TenancyDeps,
} from './deps.js'
import { TENANCY_ERRORS } from './errors.js'
import { recomputeHosts } from './hosts.js'
import type { TenancyEvents } from './events.js'
import { assertName, assertRepository, assertRuntime, invalid } from './validate.js'
import { findWorkspaceRow } from './workspaces.js'

export interface Project {
  readonly id: string
  readonly workspaceId: string
  readonly name: string
  readonly description: string
  readonly repository: string | null
  readonly defaultRuntime: string
  readonly createdAt: string
  readonly updatedAt: string
}

export interface ProjectInput {
  readonly name: string
  readonly description?: string
  readonly repository?: string | null
  readonly defaultRuntime?: string
}

const MAX_DESCRIPTION = 500
export const MAX_PROJECTS_PER_WORKSPACE = 500

export function toProject(r: ProjectsTable): Project {
  return {
    id: r.id,
    workspaceId: r.workspace_id,
    name: r.name,
    description: r.description,
    repository: r.repository,
    defaultRuntime: r.default_runtime,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  }
}

function validate(input: Partial<ProjectInput>): void {
  if (input.name !== undefined) assertName('name', input.name)
  if (input.description !== undefined && input.description.length > MAX_DESCRIPTION)
    invalid('description', `must be at most ${MAX_DESCRIPTION} characters`)
  if (input.repository !== undefined && input.repository !== null) assertRepository(input.repository)
  if (input.defaultRuntime !== undefined) assertRuntime('defaultRuntime', input.defaultRuntime)
}

function auditView(p: Project): Record<string, unknown> {
  return {
    name: p.name,
    description: p.description,
    repository: p.repository,
    defaultRuntime: p.defaultRuntime,
  }
}

const nameTaken = (name: string): ConflictError =>
  new ConflictError(TENANCY_ERRORS.nameTaken, `project ${name} exists in this workspace`, {
    publicCode: 'conflict',
  })

/**
 * `'production'` when the project has a production environment: its repository, name (part of every host) and
 * anonymization rules are then production's settings, changed only with the production-level role.
 */
export async function projectCriticality(
  db: TenancyDeps['db'],
  projectId: string,
): Promise<'production' | undefined> {
  const prod = await db
    .selectFrom('environments')
    .select('id')
    .where('project_id', '=', projectId)
    .where('criticality', '=', 'production')
    .limit(1)
    .executeTakeFirst()
  return prod ? 'production' : undefined
}

export function createProjects(deps: TenancyDeps, events: TenancyEvents) {
  const { db, audit, clock } = deps
  const notFound = (): NotFoundError =>
    new NotFoundError(TENANCY_ERRORS.notFound, 'project not found', { publicCode: 'not_found' })

  async function load(
    principal: Principal,
    id: string,
    action: Parameters<typeof authorize>[2],
    criticality?: 'production',
  ): Promise<ProjectsTable> {
    const row = await db.selectFrom('projects').selectAll().where('id', '=', id).executeTakeFirst()
    if (!row) throw notFound()
    await authorize(db, principal, action, {
      type: 'project',
      workspaceId: row.workspace_id,
      ...(criticality ? { criticality } : {}),
    })
    return row
  }

  return {
    async list(principal: Principal, wsRef: string, page: PageRequest): Promise<Page<Project>> {
      const ws = await findWorkspaceRow(deps, wsRef)
      if (!ws)
        throw new NotFoundError(TENANCY_ERRORS.notFound, 'workspace not found', { publicCode: 'not_found' })
      await authorize(db, principal, 'project.read', { type: 'workspace', workspaceId: ws.id })
      const limit = pageLimit(page.limit)
      const after = page.cursor === undefined ? undefined : decodeCursor(page.cursor)
      let q = db.selectFrom('projects').selectAll().where('workspace_id', '=', ws.id)
      if (after !== undefined) q = q.where('name', '>', after)
      const rows = await q
        .orderBy('name')
        .limit(limit + 1)
        .execute()
      return pageOf(rows.map(toProject), limit, (p) => p.name)
    },

    async get(principal: Principal, id: string): Promise<Project> {
      return toProject(await load(principal, id, 'project.read'))
    },

    async create(
      principal: Principal,
      ctx: RequestContext,
      wsRef: string,
      input: ProjectInput,
    ): Promise<Project> {
      const ws = await findWorkspaceRow(deps, wsRef)
      if (!ws)
        throw new NotFoundError(TENANCY_ERRORS.notFound, 'workspace not found', { publicCode: 'not_found' })
      await authorize(db, principal, 'project.create', { type: 'workspace', workspaceId: ws.id })
      validate(input)
      if (input.repository) deps.checkRepository?.(input.repository)
      return db.transaction().execute(async (trx) => {
        const count = await trx
          .selectFrom('projects')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('workspace_id', '=', ws.id)
          .executeTakeFirstOrThrow()
        if (Number(count.n) >= MAX_PROJECTS_PER_WORKSPACE) {
          throw new ConflictError(
            TENANCY_ERRORS.tooMany,
            `a workspace holds at most ${MAX_PROJECTS_PER_WORKSPACE} projects`,
            { publicCode: 'limit_reached' },
          )
        }
        const now = clock.now().toISOString()
        const row: ProjectsTable = {
          id: newId('prj'),
          workspace_id: ws.id,
          name: input.name,
          description: input.description ?? '',
          repository: input.repository ?? null,
          default_runtime: input.defaultRuntime ?? deps.defaultRuntime ?? DEFAULT_RUNTIME,
          created_at: now,
          updated_at: now,
        }
        try {
          await trx.insertInto('projects').values(row).execute()
        } catch (error) {
          if (isUniqueViolation(error)) throw nameTaken(input.name)
          throw error
        }
        const project = toProject(row)
        await audit.record(trx, {
          actor: actorOf(principal),
          action: 'project.create',
          target: { type: 'project', id: project.id },
          workspaceId: ws.id,
          projectId: project.id,
          changes: diffChanges(null, auditView(project)),
          context: ctx,
        })
        return project
      })
    },

    async update(
      principal: Principal,
      ctx: RequestContext,
      id: string,
      patch: Partial<ProjectInput>,
    ): Promise<Project> {
      const before = await load(principal, id, 'project.update')
      // Repointing the repository or renaming (hosts follow the name) on a project with production: production's bar.
      const touchesProduction =
        (patch.repository !== undefined && patch.repository !== before.repository) ||
        (patch.name !== undefined && patch.name !== before.name)
      if (touchesProduction) await load(principal, id, 'project.update', await projectCriticality(db, id))
      validate(patch)
      if (patch.repository && patch.repository !== before.repository) deps.checkRepository?.(patch.repository)
      let moved: string[] = []
      const result = await db.transaction().execute(async (trx) => {
        const next: ProjectsTable = {
          ...before,
          name: patch.name ?? before.name,
          description: patch.description ?? before.description,
          repository: patch.repository === undefined ? before.repository : patch.repository,
          default_runtime: patch.defaultRuntime ?? before.default_runtime,
          updated_at: clock.now().toISOString(),
        }
        try {
          await trx.updateTable('projects').set(next).where('id', '=', id).execute()
        } catch (error) {
          if (isUniqueViolation(error)) throw nameTaken(next.name)
          throw error
        }
        if (next.name !== before.name) moved = await recomputeHosts(trx, deps.baseDomain, { projectId: id })
        const project = toProject(next)
        await audit.record(trx, {
          actor: actorOf(principal),
          action: 'project.update',
          target: { type: 'project', id },
          workspaceId: before.workspace_id,
          projectId: id,
          changes: diffChanges(auditView(toProject(before)), auditView(project)),
          context: ctx,
        })
        return project
      })
      // The edge serves the new names (and stops serving the old ones) before the rename is answered.
      await events.hostsChanged(moved)
      return result
    },

    async remove(principal: Principal, ctx: RequestContext, id: string, force: boolean): Promise<void> {
      const p = await load(principal, id, 'project.delete')
      await db.transaction().execute(async (trx) => {
        const child = await trx
          .selectFrom('environments')
          .select('id')
          .where('project_id', '=', id)
          .limit(1)
          .executeTakeFirst()
        if (child && !force) {
          throw new ConflictError(
            TENANCY_ERRORS.hasChildren,
            'project still has environments; delete them first, or delete it all with force=true (palisade projects delete --force)',
            { publicCode: 'conflict' },
          )
        }
        await trx.deleteFrom('projects').where('id', '=', id).execute()
        await audit.record(trx, {
          actor: actorOf(principal),
          action: 'project.delete',
          target: { type: 'project', id },
          workspaceId: p.workspace_id,
          projectId: id,
          changes: diffChanges({ name: p.name }, null),
          context: ctx,
        })
      })
    },
  }
}

export type Projects = ReturnType<typeof createProjects>
