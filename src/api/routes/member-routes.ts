import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { ROLES } from '../../iam/index.js'
import type { AppDeps } from '../build-app.js'
import { contextOf, principalOf } from '../context.js'
import { Id, PageOf, Strict, Timestamp } from '../schemas.js'

const Role = Type.Union(ROLES.map((r) => Type.Literal(r)))
const MemberSchema = Type.Object({
  userId: Type.String(),
  email: Type.String(),
  role: Type.String(),
  totpEnabled: Type.Boolean(),
  createdAt: Timestamp,
})
const InvitationSchema = Type.Object({
  id: Type.String(),
  workspaceId: Type.String(),
  email: Type.String(),
  role: Type.String(),
  createdAt: Timestamp,
  expiresAt: Timestamp,
})
const WsParams = Strict({ ws: Id })
const MemberParams = Strict({ ws: Id, userId: Id })

/** Workspace members and invitations (roles owner/admin/developer/viewer). */
export function registerMemberRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { members } = deps.identity
  app.get(
    '/v1/workspaces/:ws/members',
    {
      config: { meta: { auth: 'required', summary: 'Members of a workspace' } },
      schema: { params: WsParams, response: { 200: PageOf(MemberSchema) } },
    },
    async (request) => members.list(principalOf(request), (request.params as { ws: string }).ws),
  )
  app.get(
    '/v1/workspaces/:ws/invitations',
    {
      config: {
        meta: { auth: 'required', summary: 'Pending invitations of a workspace (those who may invite)' },
      },
      schema: { params: WsParams, response: { 200: PageOf(InvitationSchema) } },
    },
    async (request) => members.invitations(principalOf(request), (request.params as { ws: string }).ws),
  )
  app.post(
    '/v1/workspaces/:ws/members',
    {
      config: {
        meta: {
          auth: 'required',
          audit: 'member.invite',
          summary: 'Invite someone by e-mail (the link is mailed, never returned)',
        },
      },
      schema: {
        params: WsParams,
        body: Strict({ email: Type.String({ minLength: 3, maxLength: 254 }), role: Role }),
        response: { 201: InvitationSchema },
      },
    },
    async (request, reply) =>
      reply
        .code(201)
        .send(
          await members.invite(
            principalOf(request),
            contextOf(request),
            (request.params as { ws: string }).ws,
            request.body as { email: string; role: string },
          ),
        ),
  )
  app.patch(
    '/v1/workspaces/:ws/members/:userId',
    {
      config: {
        meta: {
          auth: 'required',
          audit: 'member.update',
          summary: "Change a member's role (owner changes: owners only; never the last owner)",
        },
      },
      schema: { params: MemberParams, body: Strict({ role: Role }), response: { 200: MemberSchema } },
    },
    async (request) => {
      const p = request.params as { ws: string; userId: string }
      return members.update(
        principalOf(request),
        contextOf(request),
        p.ws,
        p.userId,
        request.body as { role: string },
      )
    },
  )
  app.delete(
    '/v1/workspaces/:ws/members/:userId',
    {
      config: {
        meta: { auth: 'required', audit: 'member.delete', summary: 'Remove a member (never the last owner)' },
      },
      schema: { params: MemberParams },
    },
    async (request, reply) => {
      const p = request.params as { ws: string; userId: string }
      await members.remove(principalOf(request), contextOf(request), p.ws, p.userId)
      return reply.code(204).send()
    },
  )
}
