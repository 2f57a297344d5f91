import type { FastifyInstance } from 'fastify'
import { Type } from '@sinclair/typebox'
import { createRuntimes } from '../../runtimes/index.js'
import type { AppDeps } from '../build-app.js'
import { contextOf, principalOf } from '../context.js'
import { Id, Strict, Timestamp } from '../schemas.js'

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(
  t: T,
  options: { description?: string } = {},
) => Type.Union([t, Type.Null()], options)

export const RuntimePlanSchema = Type.Object({
  setting: Type.String({ description: 'the environment runtime setting, e.g. node@20' }),
  current: Nullable(
    Type.String({ description: 'the exact version running now; null before the first deployment' }),
  ),
  target: Type.Optional(Type.String({ description: 'the version the next change installs' })),
  steps: Type.Array(
    Type.Object({
      kind: Type.Union(['patch', 'security', 'minor', 'eol-notice', 'none'].map((k) => Type.Literal(k))),
      version: Nullable(Type.String()),
      due: Timestamp,
      reason: Type.String({ description: 'the rule that justifies the step' }),
      from: Type.Optional(Type.String()),
      postponed: Type.Optional(Type.Boolean()),
    }),
  ),
  eol: Type.Optional(
    Type.Object({
      major: Type.Integer(),
      date: Type.String({ format: 'date' }),
      status: Type.Union([Type.Literal('upcoming'), Type.Literal('reached')]),
      options: Type.Array(Type.String()),
      choice: Type.Optional(Type.Literal('deprecated channel')),
    }),
  ),
  notices: Type.Array(Type.String()),
  postponedUntil: Type.Optional(
    Nullable(Timestamp, {
      description: 'updates are held until then (within the policy limits); null: no hold',
    }),
  ),
  retryAfter: Type.Optional(
    Nullable(Timestamp, {
      description: 'after a failed update, nothing is retried before then (the next window)',
    }),
  ),
  updating: Type.Optional(
    Nullable(Type.String({ description: 'the runtime-update deployment in progress, if any' })),
  ),
})

const PostponeBody = Strict({
  until: Type.Union([Type.String({ format: 'date-time', maxLength: 40 }), Type.Null()], {
    description: 'hold runtime updates until this instant (ISO 8601); null lifts the hold',
  }),
})

const CatalogSummarySchema = Type.Object({
  generatedAt: Timestamp,
  items: Type.Array(
    Type.Object({
      runtime: Type.String(),
      major: Type.Integer(),
      releasedAt: Type.String({ format: 'date' }),
      ltsFrom: Nullable(Type.String({ format: 'date' })),
      eolAt: Type.String({ format: 'date' }),
      latest: Nullable(Type.String()),
    }),
  ),
  nextCursor: Type.Null(),
})

/** DESIGN.md §6: the runtime catalog and each environment's update plan (read-only). */
export function registerRuntimeRoutes(app: FastifyInstance, deps: AppDeps): void {
  const runtimes = deps.runtimes ?? createRuntimes()
  app.get(
    '/v1/environments/:id/runtime-updates',
    {
      config: {
        meta: {
          auth: 'required',
          summary:
            'Runtime update plan: what is due now and what is scheduled, with the rule behind each step',
        },
      },
      schema: { params: Strict({ id: Id }), response: { 200: RuntimePlanSchema } },
    },
    async (request) => {
      const id = (request.params as { id: string }).id
      if (deps.runtimeUpdates) return deps.runtimeUpdates.plan(principalOf(request), id)
      const env = await deps.tenancy.environments.get(principalOf(request), id)
      return runtimes.planFor(env)
    },
  )
  if (deps.runtimeUpdates) {
    const updates = deps.runtimeUpdates
    app.post(
      '/v1/environments/:id/runtime-updates/postpone',
      {
        config: {
          meta: {
            auth: 'required',
            audit: 'environment.runtime.postpone',
            summary:
              'Hold runtime updates until a date; refused (422) past the policy: a security release 30 days after it was published, a patch or minor 4 maintenance windows after its date',
          },
        },
        schema: { params: Strict({ id: Id }), body: PostponeBody, response: { 200: RuntimePlanSchema } },
      },
      async (request) =>
        updates.postpone(
          principalOf(request),
          contextOf(request),
          (request.params as { id: string }).id,
          request.body as { until: string | null },
        ),
    )
  }
  app.get(
    '/v1/runtimes',
    {
      config: {
        meta: {
          auth: 'required',
          summary: 'Runtime catalog: majors with release, LTS and end-of-life dates and their latest version',
        },
      },
      schema: { response: { 200: CatalogSummarySchema } },
    },
    async () => ({
      generatedAt: runtimes.catalog().generatedAt,
      items: runtimes.summary(),
      nextCursor: null,
    }),
  )
}
