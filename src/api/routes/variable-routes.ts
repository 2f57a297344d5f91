import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { VARIABLE_LIMITS, type VariableInput } from '../../tenancy/index.js'
import type { AppDeps } from '../build-app.js'
import { contextOf, principalOf } from '../context.js'
import { Id, PageOf, Strict, VariableName, VariableSchema } from '../schemas.js'

const Value = Type.String({ maxLength: VARIABLE_LIMITS.valueBytes })
const Params = Strict({ id: Id })
const NamedParams = Strict({ id: Id, name: VariableName })

export function registerVariableRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { variables } = deps.tenancy
  app.get(
    '/v1/environments/:id/variables',
    {
      config: { meta: { auth: 'required', summary: 'Variables (secret values masked)' } },
      schema: { params: Params, response: { 200: PageOf(VariableSchema) } },
    },
    async (request) => variables.list(principalOf(request), (request.params as { id: string }).id),
  )
  app.put(
    '/v1/environments/:id/variables',
    {
      config: {
        meta: {
          auth: 'required',
          audit: 'environment.variables.update',
          summary: 'Set several variables at once (others are kept)',
        },
      },
      schema: {
        params: Params,
        body: Strict({
          variables: Type.Array(
            Strict({ name: VariableName, value: Value, secret: Type.Optional(Type.Boolean()) }),
            { minItems: 1, maxItems: VARIABLE_LIMITS.perRequest },
          ),
        }),
        response: { 200: PageOf(VariableSchema) },
      },
    },
    async (request) =>
      variables.setMany(
        principalOf(request),
        contextOf(request),
        (request.params as { id: string }).id,
        (request.body as { variables: VariableInput[] }).variables,
      ),
  )
  app.get(
    '/v1/environments/:id/variables/:name',
    {
      config: { meta: { auth: 'required' } },
      schema: { params: NamedParams, response: { 200: VariableSchema } },
    },
    async (request) => {
      const p = request.params as { id: string; name: string }
      return variables.get(principalOf(request), p.id, p.name)
    },
  )
  app.put(
    '/v1/environments/:id/variables/:name',
    {
      config: { meta: { auth: 'required', audit: 'environment.variable.set' } },
      schema: {
        params: NamedParams,
        body: Strict({ value: Value, secret: Type.Optional(Type.Boolean()) }),
        response: { 200: VariableSchema, 201: VariableSchema },
      },
    },
    async (request, reply) => {
      const p = request.params as { id: string; name: string }
      const body = request.body as { value: string; secret?: boolean }
      const input: VariableInput =
        body.secret === undefined
          ? { name: p.name, value: body.value }
          : { name: p.name, value: body.value, secret: body.secret }
      const { variable, created } = await variables.set(principalOf(request), contextOf(request), p.id, input)
      return reply.code(created ? 201 : 200).send(variable)
    },
  )
  app.delete(
    '/v1/environments/:id/variables/:name',
    {
      config: { meta: { auth: 'required', audit: 'environment.variable.delete' } },
      schema: { params: NamedParams },
    },
    async (request, reply) => {
      const p = request.params as { id: string; name: string }
      await variables.remove(principalOf(request), contextOf(request), p.id, p.name)
      return reply.code(204).send()
    },
  )
}
