import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { Deploy } from '../../deploy/index.js'
import { contextOf, principalOf } from '../context.js'
import { Id, PageOf, Strict, Timestamp } from '../schemas.js'

const DomainName = Type.String({ minLength: 3, maxLength: 253, pattern: '^[A-Za-z0-9.-]+$' })
const DomainSchema = Type.Object({
  name: Type.String(),
  environmentId: Type.String(),
  createdAt: Timestamp,
  status: Type.Union([Type.Literal('pending'), Type.Literal('verified')]),
  verifiedAt: Type.Union([Timestamp, Type.Null()]),
  checkedAt: Type.Union([Timestamp, Type.Null()]),
  verification: Type.Object({
    dns: Type.Object({ name: Type.String(), type: Type.Literal('TXT'), value: Type.String() }),
    http: Type.Object({ url: Type.String(), body: Type.String() }),
  }),
  certificate: Type.Object(
    {
      source: Type.Union([Type.Literal('acme'), Type.Literal('local_ca'), Type.Literal('none')]),
      status: Type.Union([
        Type.Literal('valid'),
        Type.Literal('pending'),
        Type.Literal('failed'),
        Type.Literal('none'),
      ]),
      issuer: Type.Union([Type.String(), Type.Null()]),
      notAfter: Type.Union([Timestamp, Type.Null()]),
      lastError: Type.Union([Type.String(), Type.Null()]),
    },
    {
      description:
        "The certificate the edge serves for the domain: source acme (when ACME is configured) or local_ca; status pending until the first order completes, failed when the last order failed (the local CA's certificate is served meanwhile, lastError says why; retried with backoff); none while the domain is not verified",
    },
  ),
})

export function registerDomainRoutes(app: FastifyInstance, deploy: Deploy): void {
  app.get(
    '/v1/environments/:id/domains',
    {
      config: {
        meta: {
          auth: 'required',
          summary: 'Custom domains routed to the environment (besides its default host)',
        },
      },
      schema: { params: Strict({ id: Id }), response: { 200: PageOf(DomainSchema) } },
    },
    async (request) => deploy.listDomains(principalOf(request), (request.params as { id: string }).id),
  )
  app.post(
    '/v1/environments/:id/domains',
    {
      config: {
        meta: {
          auth: 'required',
          audit: 'environment.domain.create',
          summary:
            'Claim a custom domain: pending (not routed) until verified; the answer says which DNS TXT record or HTTP token proves control',
        },
      },
      schema: {
        params: Strict({ id: Id }),
        body: Strict({ name: DomainName }),
        response: { 201: DomainSchema },
      },
    },
    async (request, reply) =>
      reply
        .code(201)
        .send(
          await deploy.addDomain(
            principalOf(request),
            contextOf(request),
            (request.params as { id: string }).id,
            (request.body as { name: string }).name,
          ),
        ),
  )
  app.post(
    '/v1/environments/:id/domains/:name/verify',
    {
      config: {
        meta: {
          auth: 'required',
          audit: 'environment.domain.verify',
          summary:
            'Look for the proof now (TXT _palisade-challenge.<name> or the HTTP token); routed once verified, otherwise still pending',
        },
      },
      schema: { params: Strict({ id: Id, name: DomainName }), response: { 200: DomainSchema } },
    },
    async (request) => {
      const p = request.params as { id: string; name: string }
      return deploy.verifyDomain(principalOf(request), contextOf(request), p.id, p.name)
    },
  )
  app.delete(
    '/v1/environments/:id/domains/:name',
    {
      config: { meta: { auth: 'required', audit: 'environment.domain.delete' } },
      schema: { params: Strict({ id: Id, name: DomainName }) },
    },
    async (request, reply) => {
      const p = request.params as { id: string; name: string }
      await deploy.removeDomain(principalOf(request), contextOf(request), p.id, p.name)
      return reply.code(204).send()
    },
  )
}
