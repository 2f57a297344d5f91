import ipaddr from 'ipaddr.js'
import { diffChanges, type AuditLog } from '../audit/index.js'
import { isUniqueViolation, type Database, type Kysely } from '../store/index.js'
import type { IpGroupsTable } from './tables.js'
import type { Clock } from '../shared/clock.js'
import type { RequestContext } from '../shared/context.js'
import { ConflictError, InvalidError, NotFoundError } from '../shared/errors.js'
import { newId } from '../shared/ids.js'
import { authorize } from './authorize.js'
import { IAM_ERRORS } from './errors.js'
import { findWorkspaceId } from './members.js'
import { actorOf, type Principal } from './principal.js'

/** Bounds what the edge has to match per request. */
export const MAX_CIDRS = 100
export const IP_GROUP_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/

export interface IpGroup {
  readonly id: string
  readonly workspaceId: string
  readonly name: string
  readonly cidrs: string[]
  readonly createdAt: string
  readonly updatedAt: string
}

const bad = (field: string, message: string): never => {
  throw new InvalidError(IAM_ERRORS.ipGroupInvalid, `${field} ${message}`, { details: [{ field, message }] })
}

/**
 * Validates and normalises CIDRs with ipaddr.js: a bare address becomes a /32 or /128, host bits are
 * cleared (`10.1.2.3/8` → `10.0.0.0/8`), IPv4-mapped IPv6 becomes IPv4, duplicates are dropped.
 */
export function normaliseCidrs(cidrs: readonly string[]): string[] {
  if (cidrs.length > MAX_CIDRS) bad('cidrs', `must have at most ${MAX_CIDRS} entries`)
  const out = new Set<string>()
  cidrs.forEach((raw, i) => {
    const text = raw.trim()
    const field = `cidrs.${i}`
    if (text.length === 0 || text.length > 64) bad(field, 'is not a CIDR')
    const [host = '', prefix] = text.split('/', 2)
    // ipaddr.parse also takes legacy IPv4 forms (`010.1`, `0x7f.1`) that nobody means in an allow list.
    if (!host.includes(':') && !ipaddr.IPv4.isValidFourPartDecimal(host))
      bad(field, 'must be a dotted-quad IPv4 or an IPv6 address')
    if (prefix !== undefined && !/^\d{1,3}$/.test(prefix)) bad(field, 'has an invalid prefix length')
    let addr: ipaddr.IPv4 | ipaddr.IPv6
    let bits: number
    try {
      if (prefix !== undefined) [addr, bits] = ipaddr.parseCIDR(text)
      else {
        addr = ipaddr.parse(host)
        bits = addr.kind() === 'ipv4' ? 32 : 128
      }
    } catch {
      return bad(field, 'is not a CIDR')
    }
    if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96) {
      addr = (addr as ipaddr.IPv6).toIPv4Address()
      bits -= 96
    }
    const network =
      addr.kind() === 'ipv4'
        ? ipaddr.IPv4.networkAddressFromCIDR(`${addr.toString()}/${bits}`)
        : ipaddr.IPv6.networkAddressFromCIDR(`${addr.toString()}/${bits}`)
    out.add(`${network.toString()}/${bits}`)
  })
  return [...out]
}

function toGroup(r: IpGroupsTable): IpGroup {
  return {
    id: r.id,
    workspaceId: r.workspace_id,
    name: r.name,
    cidrs: JSON.parse(r.cidrs) as string[],
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  }
}

export function createIpGroups(deps: { db: Kysely<Database>; clock: Clock; audit: AuditLog }) {
  const { db, clock, audit } = deps
  const taken = (name: string): ConflictError =>
    new ConflictError(IAM_ERRORS.ipGroupNameTaken, `IP group ${name} exists`, { publicCode: 'conflict' })
  const checkName = (name: string): void => {
    if (!IP_GROUP_NAME.test(name)) bad('name', 'must be lowercase letters, digits and dashes (1–63)')
  }

  async function load(principal: Principal, wsRef: string, id: string): Promise<IpGroupsTable> {
    const workspaceId = await findWorkspaceId(db, wsRef)
    await authorize(db, principal, 'ipgroup.manage', { type: 'workspace', workspaceId })
    const row =
      id.length > 100
        ? undefined
        : await db
            .selectFrom('ip_groups')
            .selectAll()
            .where('id', '=', id)
            .where('workspace_id', '=', workspaceId)
            .executeTakeFirst()
    if (!row)
      throw new NotFoundError(IAM_ERRORS.ipGroupNotFound, 'IP group not found', { publicCode: 'not_found' })
    return row
  }

  return {
    async list(principal: Principal, wsRef: string): Promise<{ items: IpGroup[]; nextCursor: null }> {
      const workspaceId = await findWorkspaceId(db, wsRef)
      await authorize(db, principal, 'ipgroup.read', { type: 'workspace', workspaceId })
      const rows = await db
        .selectFrom('ip_groups')
        .selectAll()
        .where('workspace_id', '=', workspaceId)
        .orderBy('name')
        .execute()
      return { items: rows.map(toGroup), nextCursor: null }
    },

    /** For the edge (no principal): the CIDRs of the given groups of a workspace. */
    async cidrsOf(workspaceId: string, ids: readonly string[]): Promise<string[]> {
      if (ids.length === 0) return []
      const rows = await db
        .selectFrom('ip_groups')
        .select('cidrs')
        .where('workspace_id', '=', workspaceId)
        .where('id', 'in', [...ids])
        .execute()
      return [...new Set(rows.flatMap((r) => JSON.parse(r.cidrs) as string[]))]
    },

    async create(
      principal: Principal,
      ctx: RequestContext,
      wsRef: string,
      input: { name: string; cidrs: readonly string[] },
    ): Promise<IpGroup> {
      const workspaceId = await findWorkspaceId(db, wsRef)
      await authorize(db, principal, 'ipgroup.manage', { type: 'workspace', workspaceId })
      checkName(input.name)
      const cidrs = normaliseCidrs(input.cidrs)
      const now = clock.now().toISOString()
      const row: IpGroupsTable = {
        id: newId('ipg'),
        workspace_id: workspaceId,
        name: input.name,
        cidrs: JSON.stringify(cidrs),
        created_at: now,
        updated_at: now,
      }
      return db.transaction().execute(async (trx) => {
        try {
          await trx.insertInto('ip_groups').values(row).execute()
        } catch (error) {
          if (isUniqueViolation(error)) throw taken(input.name)
          throw error
        }
        await audit.record(trx, {
          actor: actorOf(principal),
          action: 'ipgroup.create',
          target: { type: 'ip_group', id: row.id },
          workspaceId,
          changes: diffChanges(null, { name: row.name, cidrs }),
          context: ctx,
        })
        return toGroup(row)
      })
    },

    async update(
      principal: Principal,
      ctx: RequestContext,
      wsRef: string,
      id: string,
      patch: { name?: string | undefined; cidrs?: readonly string[] | undefined },
    ): Promise<IpGroup> {
      const before = await load(principal, wsRef, id)
      if (patch.name !== undefined) checkName(patch.name)
      const next: IpGroupsTable = {
        ...before,
        name: patch.name ?? before.name,
        cidrs: patch.cidrs === undefined ? before.cidrs : JSON.stringify(normaliseCidrs(patch.cidrs)),
        updated_at: clock.now().toISOString(),
      }
      return db.transaction().execute(async (trx) => {
        try {
          await trx
            .updateTable('ip_groups')
            .set({ name: next.name, cidrs: next.cidrs, updated_at: next.updated_at })
            .where('id', '=', before.id)
            .execute()
        } catch (error) {
          if (isUniqueViolation(error)) throw taken(next.name)
          throw error
        }
        await audit.record(trx, {
          actor: actorOf(principal),
          action: 'ipgroup.update',
          target: { type: 'ip_group', id: before.id },
          workspaceId: before.workspace_id,
          changes: diffChanges(
            { name: before.name, cidrs: JSON.parse(before.cidrs) as unknown },
            { name: next.name, cidrs: JSON.parse(next.cidrs) as unknown },
          ),
          context: ctx,
        })
        return toGroup(next)
      })
    },

    async remove(principal: Principal, ctx: RequestContext, wsRef: string, id: string): Promise<void> {
      const before = await load(principal, wsRef, id)
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom('ip_groups').where('id', '=', before.id).execute()
        await audit.record(trx, {
          actor: actorOf(principal),
          action: 'ipgroup.delete',
          target: { type: 'ip_group', id: before.id },
          workspaceId: before.workspace_id,
          changes: diffChanges({ name: before.name }, null),
          context: ctx,
        })
      })
    },
  }
}

export type IpGroups = ReturnType<typeof createIpGroups>
