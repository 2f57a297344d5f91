import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { authorize } from '../../iam/index.js'
import { verifyChain, type AuditEvent } from '../../audit/index.js'
import { findWorkspaceRow, TENANCY_ERRORS } from '../../tenancy/index.js'
import { NotFoundError } from '../../shared/errors.js'
import type { AppDeps } from '../build-app.js'
import { principalOf } from '../context.js'
import { AuditEventSchema, CheckpointSchema, Id, PageOf, Strict } from '../schemas.js'
import type { FastifyRequest } from 'fastify'

const Filter = Strict({
  since: Type.Optional(Type.String({ format: 'date-time' })),
  until: Type.Optional(Type.String({ format: 'date-time' })),
  action: Type.Optional(Type.String({ pattern: '^[a-z.*-]{1,100}$' })),
  actor: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_@.+-]{1,254}$', description: 'actor id' })),
  target: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_/.-]{1,200}$', description: 'target id' })),
  environment: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{1,100}$' })),
  cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,12}$', description: 'seq of the last event seen' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
})

export function registerAuditRoutes(app: FastifyInstance, deps: AppDeps): void {
  async function workspaceFor(request: FastifyRequest): Promise<string> {
    const ws = await findWorkspaceRow(
      { db: deps.db } as Parameters<typeof findWorkspaceRow>[0],
      (request.params as { ws: string }).ws,
    )
    if (!ws)
      throw new NotFoundError(TENANCY_ERRORS.notFound, 'workspace not found', { publicCode: 'not_found' })
    await authorize(deps.db, principalOf(request), 'audit.read', { type: 'workspace', workspaceId: ws.id })
    return ws.id
  }

  app.get(
    '/v1/workspaces/:ws/audit-events',
    {
      config: { meta: { auth: 'required', summary: 'Audit events in seq order (owners and admins only)' } },
      schema: {
        params: Strict({ ws: Id }),
        querystring: Filter,
        response: { 200: PageOf(AuditEventSchema) },
      },
    },
    async (request) => {
      const chain = await workspaceFor(request)
      const q = request.query as {
        since?: string
        until?: string
        action?: string
        actor?: string
        target?: string
        environment?: string
        cursor?: string
        limit?: number
      }
      const limit = q.limit ?? 100
      const events = await deps.audit.list({
        chain,
        limit: limit + 1,
        ...(q.since ? { since: new Date(q.since).toISOString() } : {}),
        ...(q.until ? { until: new Date(q.until).toISOString() } : {}),
        ...(q.action ? { action: q.action } : {}),
        ...(q.actor ? { actor: q.actor } : {}),
        ...(q.target ? { targetId: q.target } : {}),
        ...(q.environment ? { environmentId: q.environment } : {}),
        ...(q.cursor ? { afterSeq: Number(q.cursor) } : {}),
      })
      const more = events.length > limit
      const items = more ? events.slice(0, limit) : events
      return { items, nextCursor: more ? String(items[items.length - 1]?.seq) : null }
    },
  )

  app.get(
    '/v1/workspaces/:ws/audit-verification',
    {
      config: {
        meta: {
          auth: 'required',
          summary:
            'Verifies the workspace\'s hash chain and signed checkpoints on the server (the console\'s "chain verified up to event N"; `palisade audit verify` checks it on the client)',
        },
      },
      schema: {
        params: Strict({ ws: Id }),
        response: {
          200: Type.Object({
            ok: Type.Boolean(),
            count: Type.Integer(),
            headSeq: Type.Integer(),
            headAt: Type.Union([Type.String(), Type.Null()]),
            checkpoints: Type.Integer(),
            firstBad: Type.Optional(
              Type.Object({
                seq: Type.Integer(),
                id: Type.Union([Type.String(), Type.Null()]),
                reason: Type.String(),
              }),
            ),
          }),
        },
      },
    },
    async (request) => {
      const chain = await workspaceFor(request)
      // Read in pages of 1,000 (the list's largest): a long chain is never one query's worth of memory twice.
      const events: AuditEvent[] = []
      for (;;) {
        const page = await deps.audit.list({
          chain,
          limit: 1000,
          ...(events.length ? { afterSeq: events[events.length - 1]?.seq ?? 0 } : {}),
        })
        events.push(...page)
        if (page.length < 1000) break
      }
      const checkpoints = await deps.audit.checkpoints(chain)
      const result = verifyChain(events, checkpoints, deps.audit.publicKeyPem)
      const head = events[events.length - 1]
      return { ...result, headAt: head?.at ?? null, checkpoints: checkpoints.length }
    },
  )

  app.get(
    '/v1/workspaces/:ws/audit-checkpoints',
    {
      config: { meta: { auth: 'required', summary: 'Signed checkpoints of the workspace chain' } },
      schema: { params: Strict({ ws: Id }), response: { 200: PageOf(CheckpointSchema) } },
    },
    async (request) => ({
      items: await deps.audit.checkpoints(await workspaceFor(request)),
      nextCursor: null,
    }),
  )

  app.get(
    '/v1/audit/public-key',
    {
      config: { meta: { auth: 'public', summary: 'Ed25519 public key that signs audit checkpoints (PEM)' } },
      schema: { response: { 200: Type.Object({ algorithm: Type.String(), publicKey: Type.String() }) } },
    },
    async () => ({ algorithm: 'ed25519', publicKey: deps.audit.publicKeyPem }),
  )
}
