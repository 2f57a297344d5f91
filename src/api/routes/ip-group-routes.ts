import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { MAX_CIDRS } from '../../iam/index.js'
import type { AppDeps } from '../build-app.js'
import { contextOf, principalOf } from '../context.js'
import { Id, PageOf, Strict, Timestamp } from '../schemas.js'

const IpGroupSchema = Type.Object({
  id: Type.String(),
  workspaceId: Type.String(),
  name: Type.String(),
  cidrs: Type.Array(Type.String()),
  createdAt: Timestamp,
  updatedAt: Timestamp,
})
const Cidrs = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
  maxItems: MAX_CIDRS,
  description: 'IPv4/IPv6 CIDRs or addresses',
})
const Name = Type.String({ minLength: 1, maxLength: 63 })

/** Named CIDR lists per workspace, for environment access rules at the edge. */
export function registerIpGroupRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { ipGroups } = deps.identity
  app.get(
    '/v1/workspaces/:ws/ip-groups',
    {
      config: { meta: { auth: 'required', summary: 'IP groups of a workspace' } },
      schema: { params: Strict({ ws: Id }), response: { 200: PageOf(IpGroupSchema) } },
    },
    async (request) => ipGroups.list(principalOf(request), (request.params as { ws: string }).ws),
  )
  app.post(
    '/v1/workspaces/:ws/ip-groups',
    {
      config: { meta: { auth: 'required', audit: 'ipgroup.create', summary: 'Create an IP group' } },
      schema: {
        params: Strict({ ws: Id }),
        body: Strict({ name: Name, cidrs: Cidrs }),
        response: { 201: IpGroupSchema },
      },
    },
    async (request, reply) =>
      reply
        .code(201)
        .send(
          await ipGroups.create(
            principalOf(request),
            contextOf(request),
            (request.params as { ws: string }).ws,
            request.body as { name: string; cidrs: string[] },
          ),
        ),
  )
  app.patch(
    '/v1/workspaces/:ws/ip-groups/:id',
    {
      config: {
        meta: {
          auth: 'required',
          audit: 'ipgroup.update',
          summary: 'Rename an IP group or replace its CIDRs',
        },
      },
      schema: {
        params: Strict({ ws: Id, id: Id }),
        body: Strict({ name: Type.Optional(Name), cidrs: Type.Optional(Cidrs) }),
        response: { 200: IpGroupSchema },
      },
    },
    async (request) => {
      const p = request.params as { ws: string; id: string }
      return ipGroups.update(
        principalOf(request),
        contextOf(request),
        p.ws,
        p.id,
        request.body as { name?: string; cidrs?: string[] },
      )
    },
  )
  app.delete(
    '/v1/workspaces/:ws/ip-groups/:id',
    {
      config: { meta: { auth: 'required', audit: 'ipgroup.delete', summary: 'Delete an IP group' } },
      schema: { params: Strict({ ws: Id, id: Id }) },
    },
    async (request, reply) => {
      const p = request.params as { ws: string; id: string }
      await ipGroups.remove(principalOf(request), contextOf(request), p.ws, p.id)
      return reply.code(204).send()
    },
  )
}
