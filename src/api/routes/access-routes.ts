import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { ACCESS_LIMITS, type AccessInput, type AccessPatch, type Deploy } from '../../deploy/index.js'
import { contextOf, principalOf } from '../context.js'
import { Id, Strict } from '../schemas.js'

const AccessSchema = Type.Object({
  ipAllow: Type.Array(Type.String()),
  ipGroups: Type.Array(Type.String()),
  password: Type.Union([Type.Object({ username: Type.String() }), Type.Null()]),
})

export function registerAccessRoutes(app: FastifyInstance, deploy: Deploy): void {
  const Params = Strict({ id: Id })
  app.get(
    '/v1/environments/:id/access',
    {
      config: {
        meta: {
          auth: 'required',
          summary: 'IP allow list, ip-groups and password protection (the password is never returned)',
        },
      },
      schema: { params: Params, response: { 200: AccessSchema } },
    },
    async (request) => deploy.getAccess(principalOf(request), (request.params as { id: string }).id),
  )
  const IpAllow = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
    maxItems: ACCESS_LIMITS.ipAllow,
  })
  const IpGroups = Type.Array(Type.String({ minLength: 1, maxLength: 100 }), {
    maxItems: ACCESS_LIMITS.ipGroups,
  })
  const Password = Type.Union([
    Strict({
      username: Type.String({ minLength: 1, maxLength: ACCESS_LIMITS.usernameLength }),
      password: Type.String({ minLength: 8, maxLength: ACCESS_LIMITS.passwordLength }),
    }),
    Type.Null(),
  ])
  app.put(
    '/v1/environments/:id/access',
    {
      config: {
        meta: {
          auth: 'required',
          audit: 'environment.access.update',
          summary: 'Replace the access rules; empty lists mean no IP restriction',
        },
      },
      schema: {
        params: Params,
        body: Strict({ ipAllow: IpAllow, ipGroups: IpGroups, password: Password }),
        response: { 200: AccessSchema },
      },
    },
    async (request) =>
      deploy.setAccess(
        principalOf(request),
        contextOf(request),
        (request.params as { id: string }).id,
        request.body as AccessInput,
      ),
  )
  app.patch(
    '/v1/environments/:id/access',
    {
      config: {
        meta: {
          auth: 'required',
          audit: 'environment.access.update',
          summary:
            'Change some access rules; a field left out stays as it is (password left out: the protection and ' +
            'its stored password are kept; null: off; {username, password}: on with these)',
        },
      },
      schema: {
        params: Params,
        body: Strict({
          ipAllow: Type.Optional(IpAllow),
          ipGroups: Type.Optional(IpGroups),
          password: Type.Optional(Password),
        }),
        response: { 200: AccessSchema },
      },
    },
    async (request) =>
      deploy.updateAccess(
        principalOf(request),
        contextOf(request),
        (request.params as { id: string }).id,
        request.body as AccessPatch,
      ),
  )
}
