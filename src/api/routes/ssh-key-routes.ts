import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { AppDeps } from '../build-app.js'
import { contextOf, principalOf } from '../context.js'
import { Id, PageOf, Strict, Timestamp } from '../schemas.js'

const SshKeySchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  type: Type.String(),
  bits: Type.Integer(),
  fingerprint: Type.String(),
  publicKey: Type.String(),
  createdAt: Timestamp,
})

/** The user's SSH public keys (ed25519, ecdsa, rsa ≥ 3072), identified by their SHA256 fingerprint. */
export function registerSshKeyRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { sshKeys } = deps.identity
  app.get(
    '/v1/me/ssh-keys',
    {
      config: { meta: { auth: 'required', summary: 'My SSH public keys' } },
      schema: { response: { 200: PageOf(SshKeySchema) } },
    },
    async (request) => sshKeys.list(principalOf(request)),
  )
  app.post(
    '/v1/me/ssh-keys',
    {
      config: { meta: { auth: 'required', audit: 'sshkey.create', summary: 'Add an SSH public key' } },
      schema: {
        body: Strict({
          publicKey: Type.String({
            minLength: 1,
            maxLength: 16384,
            description: 'one OpenSSH public key line',
          }),
          name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
        }),
        response: { 201: SshKeySchema },
      },
    },
    async (request, reply) =>
      reply
        .code(201)
        .send(
          await sshKeys.add(
            principalOf(request),
            contextOf(request),
            request.body as { publicKey: string; name?: string },
          ),
        ),
  )
  app.delete(
    '/v1/me/ssh-keys/:id',
    {
      config: { meta: { auth: 'required', audit: 'sshkey.delete', summary: 'Remove an SSH public key' } },
      schema: { params: Strict({ id: Id }) },
    },
    async (request, reply) => {
      await sshKeys.remove(principalOf(request), contextOf(request), (request.params as { id: string }).id)
      return reply.code(204).send()
    },
  )
}
