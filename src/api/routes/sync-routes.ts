import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import {
  IDENTIFIER_PATTERN,
  RULE_LIMITS,
  RULE_METHODS,
  RULE_SERVICES,
  SYNC_STATUSES,
  VALUE_PATTERN,
  type AnonymizationRule,
  type SyncInput,
  type SyncService,
} from '../../services/index.js'
import { contextOf, principalOf } from '../context.js'
import { Id, Name, PageOf, Strict, Timestamp } from '../schemas.js'

const Identifier = Type.String({ pattern: IDENTIFIER_PATTERN, maxLength: RULE_LIMITS.identifier })

const RuleSchema = Strict({
  service: Type.Union(RULE_SERVICES.map((s) => Type.Literal(s))),
  table: Identifier,
  column: Identifier,
  method: Type.Union(RULE_METHODS.map((m) => Type.Literal(m))),
  value: Type.Optional(
    Type.String({ maxLength: RULE_LIMITS.value, pattern: VALUE_PATTERN, description: 'only with constant' }),
  ),
})

const AnonymizationSchema = Type.Object({
  projectId: Type.String(),
  rules: Type.Array(RuleSchema),
  updatedAt: Type.Union([Timestamp, Type.Null()]),
  unchecked: Type.Optional(
    Type.Array(Type.Integer(), {
      description:
        'on save: indexes of rules not checked against a schema (no running service of their type in the project yet)',
    }),
  ),
})

const SyncSchema = Type.Object({
  id: Type.String(),
  environmentId: Type.String(),
  sourceEnvironmentId: Type.String(),
  status: Type.Union(SYNC_STATUSES.map((s) => Type.Literal(s))),
  reason: Type.Union([Type.String(), Type.Null()]),
  services: Type.Array(Type.String()),
  files: Type.Boolean(),
  rulesApplied: Type.Integer(),
  backupId: Type.Union([Type.String(), Type.Null()]),
  createdAt: Timestamp,
  finishedAt: Type.Union([Timestamp, Type.Null()]),
})

/** Anonymization rules per project and environment sync (copy one environment's data into another). */
export function registerSyncRoutes(app: FastifyInstance, sync: SyncService): void {
  const Params = Strict({ id: Id })
  app.get(
    '/v1/projects/:id/anonymization',
    {
      config: { meta: { auth: 'required', summary: 'Anonymization rules applied when data is synced' } },
      schema: { params: Params, response: { 200: AnonymizationSchema } },
    },
    async (request) => sync.getRules(principalOf(request), (request.params as { id: string }).id),
  )
  app.put(
    '/v1/projects/:id/anonymization',
    {
      config: {
        meta: {
          auth: 'required',
          audit: 'project.anonymization.update',
          summary:
            "Replace the anonymization rules: per service type, table and column one of hash, fake-email, fake-name, null, constant, keep. Each rule's table and column must exist in one of the project's running services of its type (422 rules_mismatch naming the missing ones)",
        },
      },
      schema: {
        params: Params,
        body: Strict({ rules: Type.Array(RuleSchema, { maxItems: RULE_LIMITS.rules }) }),
        response: { 200: AnonymizationSchema },
      },
    },
    async (request) =>
      sync.putRules(
        principalOf(request),
        contextOf(request),
        (request.params as { id: string }).id,
        (request.body as { rules: AnonymizationRule[] }).rules,
      ),
  )
  app.post(
    '/v1/environments/:id/sync',
    {
      config: {
        meta: {
          auth: 'required',
          audit: 'environment.sync',
          summary:
            'Copy another environment’s databases (and persistent directories) of the same project into this one, anonymized by the project’s rules; the target is backed up first. Answers 202 with status running',
        },
      },
      schema: {
        params: Params,
        body: Strict({
          from: Id,
          services: Type.Optional(Type.Array(Name, { maxItems: 10, uniqueItems: true })),
          files: Type.Optional(Type.Boolean()),
        }),
        response: { 202: SyncSchema },
      },
    },
    async (request, reply) =>
      reply
        .code(202)
        .send(
          await sync.create(
            principalOf(request),
            contextOf(request),
            (request.params as { id: string }).id,
            request.body as SyncInput,
          ),
        ),
  )
  app.get(
    '/v1/environments/:id/syncs',
    {
      config: { meta: { auth: 'required', summary: 'Syncs into an environment, newest first' } },
      schema: { params: Params, response: { 200: PageOf(SyncSchema) } },
    },
    async (request) => sync.list(principalOf(request), (request.params as { id: string }).id),
  )
  app.get(
    '/v1/syncs/:id',
    {
      config: { meta: { auth: 'required', summary: 'Status of a sync (running, succeeded, failed)' } },
      schema: { params: Params, response: { 200: SyncSchema } },
    },
    async (request) => sync.get(principalOf(request), (request.params as { id: string }).id),
  )
}
