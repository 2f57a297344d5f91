import { Type, type TSchema } from '@sinclair/typebox'
import {
  NAME_PATTERN,
  RUNTIME_PATTERN,
  VARIABLE_NAME_PATTERN,
  CRITICALITIES,
  RUNTIME_CHANNELS,
  WEEKDAYS,
  MAX_PAGE,
} from '../tenancy/index.js'

/** Request and response schemas: the same objects validate requests and produce the OpenAPI document. */
export const Strict = <T extends Parameters<typeof Type.Object>[0]>(
  props: T,
  opts: { description?: string } = {},
) => Type.Object(props, { additionalProperties: false, ...opts })

export const Name = Type.String({
  pattern: NAME_PATTERN,
  maxLength: 63,
  description: 'lowercase name, 2–63 chars',
})
export const Id = Type.String({ minLength: 1, maxLength: 100 })
export const Timestamp = Type.String({ format: 'date-time' })

export const ErrorSchema = Type.Object(
  {
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
      requestId: Type.String(),
      details: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
    }),
  },
  { $id: 'Error' },
)

export const PageQuery = Strict({
  cursor: Type.Optional(Type.String({ maxLength: 500 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE })),
})

export const ForceQuery = Strict({
  force: Type.Optional(Type.Boolean({ description: 'also delete everything below' })),
})

export function PageOf(item: TSchema) {
  return Type.Object({ items: Type.Array(item), nextCursor: Type.Union([Type.String(), Type.Null()]) })
}

export const UserSchema = Type.Object({
  id: Type.String(),
  email: Type.String(),
  totpEnabled: Type.Boolean(),
  createdAt: Timestamp,
})

export const WorkspaceSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  displayName: Type.String(),
  requireMfa: Type.Boolean(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
})

export const ProjectSchema = Type.Object({
  id: Type.String(),
  workspaceId: Type.String(),
  name: Type.String(),
  description: Type.String(),
  repository: Type.Union([Type.String(), Type.Null()]),
  defaultRuntime: Type.String(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
})

export const Runtime = Type.String({
  pattern: RUNTIME_PATTERN,
  maxLength: 263,
  description: 'node@20, php@8.2, static or custom:<image>',
})
export const Criticality = Type.Union(CRITICALITIES.map((c) => Type.Literal(c)))
export const SizingSchema = Type.Object(
  {
    instances: Type.Integer({ minimum: 1, maximum: 20 }),
    memoryMb: Type.Integer({ minimum: 64, maximum: 65536 }),
    cpu: Type.Number({ minimum: 0.1, maximum: 16 }),
  },
  { additionalProperties: false },
)
export const MaintenanceWindowSchema = Strict({
  day: Type.Union(WEEKDAYS.map((d) => Type.Literal(d))),
  start: Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' }),
  durationMinutes: Type.Integer({ minimum: 30, maximum: 720 }),
  timezone: Type.String({ minLength: 1, maxLength: 64 }),
})

export const EnvironmentSchema = Type.Object({
  id: Type.String(),
  workspaceId: Type.String(),
  projectId: Type.String(),
  name: Type.String(),
  branch: Type.String(),
  criticality: Criticality,
  runtime: Type.String(),
  runtimeChannel: Type.Union(
    RUNTIME_CHANNELS.map((c) => Type.Literal(c)),
    { description: 'stable, or deprecated: keep a major past its end of life, knowingly' },
  ),
  host: Type.String(),
  sizing: SizingSchema,
  maintenanceWindow: Type.Union([MaintenanceWindowSchema, Type.Null()]),
  persistentDirs: Type.Array(Type.String()),
  healthCheckPath: Type.String(),
  egress: Type.Object({
    app: Type.Union([Type.String(), Type.Array(Type.String())]),
    build: Type.Union([Type.String(), Type.Array(Type.String())]),
  }),
  throttle: Type.Union([
    Type.Object({ requestsPerSecond: Type.Integer(), burst: Type.Integer() }),
    Type.Literal('off'),
  ]),
  createdAt: Timestamp,
  updatedAt: Timestamp,
})

export const EnvironmentFields = {
  branch: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  criticality: Type.Optional(Criticality),
  runtime: Type.Optional(Runtime),
  runtimeChannel: Type.Optional(Type.Union(RUNTIME_CHANNELS.map((c) => Type.Literal(c)))),
  sizing: Type.Optional(Type.Partial(SizingSchema, { additionalProperties: false })),
  maintenanceWindow: Type.Optional(Type.Union([MaintenanceWindowSchema, Type.Null()])),
  persistentDirs: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 20 })),
  healthCheckPath: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  egress: Type.Optional(
    Type.Object(
      {
        app: Type.Optional(
          Type.Union([
            Type.String({ maxLength: 20 }),
            Type.Array(Type.String({ maxLength: 253 }), { maxItems: 50 }),
          ]),
        ),
        build: Type.Optional(
          Type.Union([
            Type.String({ maxLength: 20 }),
            Type.Array(Type.String({ maxLength: 253 }), { maxItems: 50 }),
          ]),
        ),
      },
      {
        additionalProperties: false,
        description: 'outbound connections: "public", "none" or host names (builds also "registries")',
      },
    ),
  ),
  throttle: Type.Optional(
    Type.Union(
      [
        Type.Object(
          {
            requestsPerSecond: Type.Integer({ minimum: 1, maximum: 100_000 }),
            burst: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
          },
          { additionalProperties: false },
        ),
        Type.Literal('off'),
        Type.Null(),
      ],
      {
        description:
          'requests per second per client address with a burst, "off", or null for the default (100/200)',
      },
    ),
  ),
}

export const VariableName = Type.String({ pattern: VARIABLE_NAME_PATTERN, maxLength: 128 })
export const VariableSchema = Type.Object({
  name: Type.String(),
  value: Type.String(),
  secret: Type.Boolean(),
  updatedAt: Timestamp,
})

export const AuditEventSchema = Type.Object({
  id: Type.String(),
  seq: Type.Integer(),
  at: Timestamp,
  actor: Type.Object({ type: Type.String(), id: Type.String(), email: Type.Optional(Type.String()) }),
  action: Type.String(),
  target: Type.Object({ type: Type.String(), id: Type.String() }),
  workspace: Type.Union([Type.String(), Type.Null()]),
  project: Type.Union([Type.String(), Type.Null()]),
  environment: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  userAgent: Type.Union([Type.String(), Type.Null()]),
  requestId: Type.Union([Type.String(), Type.Null()]),
  outcome: Type.String(),
  changes: Type.Record(Type.String(), Type.Unknown()),
  prevHash: Type.String(),
  hash: Type.String(),
})

export const CheckpointSchema = Type.Object({
  chain: Type.String(),
  seq: Type.Integer(),
  hash: Type.String(),
  at: Timestamp,
  signature: Type.String(),
  pruned: Type.Boolean(),
})
