import type { Dialect, Kysely, Transaction, Database, AuditEventsTable } from '../store/index.js'
import {
  GENESIS_HASH,
  computeEventHash,
  type AuditActor,
  type AuditChanges,
  type AuditEvent,
  type Outcome,
} from './audit-event.js'
import type { RequestContext } from '../shared/context.js'
import { newId } from '../shared/ids.js'

export interface AppendInput {
  readonly actor: AuditActor
  readonly action: string
  readonly target: { readonly type: string; readonly id: string }
  readonly workspaceId?: string | null
  readonly projectId?: string | null
  readonly environmentId?: string | null
  readonly outcome?: Outcome
  readonly changes?: AuditChanges
  readonly context: RequestContext
  readonly at: Date
}

/** The chain an event belongs to: its workspace, or '' for platform-wide events. */
export function chainOf(workspaceId: string | null | undefined): string {
  return workspaceId ?? ''
}

/**
 * Appends one event inside the caller's transaction. The head row of the chain is locked
 * (`FOR UPDATE` on PostgreSQL; SQLite has one writer at a time) so concurrent writers cannot fork
 * the chain or reuse a seq.
 */
export async function appendEvent(
  trx: Transaction<Database>,
  dialect: Dialect,
  input: AppendInput,
): Promise<AuditEvent> {
  const chain = chainOf(input.workspaceId)
  const readHead = () => {
    const q = trx.selectFrom('audit_heads').select(['seq', 'hash']).where('chain', '=', chain)
    return (dialect === 'postgres' ? q.forUpdate() : q).executeTakeFirst()
  }
  let head = await readHead()
  if (!head) {
    // First event of the chain; concurrent first writers meet at the primary key and then lock the row.
    await trx
      .insertInto('audit_heads')
      .values({ chain, seq: 0, hash: GENESIS_HASH })
      .onConflict((oc) => oc.column('chain').doNothing())
      .execute()
    head = await readHead()
    if (!head) throw new Error('audit head row vanished')
  }
  const body: Omit<AuditEvent, 'hash'> = {
    id: newId('evt'),
    seq: head.seq + 1,
    at: input.at.toISOString(),
    actor: input.actor,
    action: input.action,
    target: { type: input.target.type, id: input.target.id },
    workspace: input.workspaceId ?? null,
    project: input.projectId ?? null,
    environment: input.environmentId ?? null,
    ip: input.context.ip,
    userAgent: input.context.userAgent,
    requestId: input.context.requestId,
    outcome: input.outcome ?? 'success',
    changes: input.changes ?? {},
    prevHash: head.hash,
  }
  const event: AuditEvent = { ...body, hash: computeEventHash(body) }
  await trx.insertInto('audit_events').values(toRow(chain, event)).execute()
  await trx
    .updateTable('audit_heads')
    .set({ seq: event.seq, hash: event.hash })
    .where('chain', '=', chain)
    .execute()
  return event
}

function toRow(chain: string, e: AuditEvent): AuditEventsTable {
  return {
    id: e.id,
    chain,
    seq: e.seq,
    at: e.at,
    actor: JSON.stringify(e.actor),
    action: e.action,
    target_type: e.target.type,
    target_id: e.target.id,
    workspace_id: e.workspace,
    project_id: e.project,
    environment_id: e.environment,
    ip: e.ip,
    user_agent: e.userAgent,
    request_id: e.requestId,
    outcome: e.outcome,
    changes: JSON.stringify(e.changes),
    prev_hash: e.prevHash,
    hash: e.hash,
  }
}

export function fromRow(r: AuditEventsTable): AuditEvent {
  return {
    id: r.id,
    seq: r.seq,
    at: r.at,
    actor: JSON.parse(r.actor) as AuditActor,
    action: r.action,
    target: { type: r.target_type, id: r.target_id },
    workspace: r.workspace_id,
    project: r.project_id,
    environment: r.environment_id,
    ip: r.ip,
    userAgent: r.user_agent,
    requestId: r.request_id,
    outcome: r.outcome as Outcome,
    changes: JSON.parse(r.changes) as AuditChanges,
    prevHash: r.prev_hash,
    hash: r.hash,
  }
}

export interface ListFilter {
  readonly chain: string
  readonly since?: string
  readonly until?: string
  readonly action?: string
  readonly actor?: string
  readonly targetId?: string
  readonly environmentId?: string
  readonly afterSeq?: number
  readonly limit: number
}

/** Newest first would break verification of a page; events come in seq order. */
export async function listEvents(db: Kysely<Database>, f: ListFilter): Promise<AuditEvent[]> {
  let q = db.selectFrom('audit_events').selectAll().where('chain', '=', f.chain)
  if (f.since) q = q.where('at', '>=', f.since)
  if (f.until) q = q.where('at', '<', f.until)
  if (f.action)
    q = q.where((eb) =>
      f.action!.endsWith('*')
        ? eb('action', 'like', f.action!.slice(0, -1) + '%')
        : eb('action', '=', f.action!),
    )
  if (f.actor) q = q.where('actor', 'like', `%"id":${JSON.stringify(f.actor)}%`)
  if (f.targetId) q = q.where('target_id', '=', f.targetId)
  if (f.environmentId) q = q.where('environment_id', '=', f.environmentId)
  if (f.afterSeq !== undefined) q = q.where('seq', '>', f.afterSeq)
  const rows = await q.orderBy('seq', 'asc').limit(f.limit).execute()
  return rows.map(fromRow)
}
