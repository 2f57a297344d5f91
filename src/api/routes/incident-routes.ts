import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { INCIDENT_ACTIONS, type IncidentAction } from '../../iam/index.js'
import type { AppDeps } from '../build-app.js'
import { contextOf, principalOf } from '../context.js'
import { Id, Strict, Timestamp } from '../schemas.js'

const IncidentReportSchema = Type.Object({
  workspaceId: Type.String(),
  actions: Type.Array(Type.String()),
  reason: Type.String(),
  at: Timestamp,
  restrictedEnvironments: Type.Integer(),
  revokedSessions: Type.Integer(),
  revokedTokens: Type.Integer(),
  withdrawnInvitations: Type.Integer(),
  notified: Type.Integer(),
})

/** `POST /v1/workspaces/:ws/incidents`: an owner's or admin's emergency brake for a workspace. */
export function registerIncidentRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.post(
    '/v1/workspaces/:ws/incidents',
    {
      config: {
        meta: {
          auth: 'required',
          audit: 'workspace.incident.create',
          summary:
            'Incident response: restrict (every environment to maintenance), revoke-credentials (all sessions and tokens of the members but yours), require-mfa, notify (e-mail every member)',
        },
      },
      schema: {
        params: Strict({ ws: Id }),
        body: Strict({
          actions: Type.Array(Type.Union(INCIDENT_ACTIONS.map((a) => Type.Literal(a))), {
            minItems: 1,
            maxItems: INCIDENT_ACTIONS.length,
            uniqueItems: true,
          }),
          reason: Type.String({ minLength: 1, maxLength: 1000 }),
        }),
        response: { 201: IncidentReportSchema },
      },
    },
    async (request, reply) => {
      const body = request.body as { actions: IncidentAction[]; reason: string }
      const report = await deps.identity.incidents.create(
        principalOf(request),
        contextOf(request),
        (request.params as { ws: string }).ws,
        body,
      )
      return reply.code(201).send(report)
    },
  )
}
