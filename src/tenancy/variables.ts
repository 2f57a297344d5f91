import { actorOf, type Principal } from '../iam/index.js'
import { diffChanges, MASK } from '../audit/index.js'
import type { Database, Transaction, VariablesTable } from '../store/index.js'
import type { RequestContext } from '../shared/context.js'
import { ConflictError, NotFoundError } from '../shared/errors.js'
import type { TenancyDeps } from './deps.js'
import { TENANCY_ERRORS } from './errors.js'
import type { Environments } from './environments.js'
import type { TenancyEvents } from './events.js'
import { assertVariableName, invalid } from './validate.js'

export interface Variable {
  readonly name: string
  /** Secret values are never returned: they read as a mask. */
  readonly value: string
  readonly secret: boolean
  readonly updatedAt: string
}

export interface VariableInput {
  readonly name: string
  readonly value: string
  readonly secret?: boolean
}

export const VARIABLE_LIMITS = Object.freeze({ perEnvironment: 200, valueBytes: 32 * 1024, perRequest: 100 })

export const sealContext = (envId: string, name: string): string => `variable:${envId}:${name}`

function toVariable(r: VariablesTable): Variable {
  return {
    name: r.name,
    value: r.secret === 1 ? MASK : r.value,
    secret: r.secret === 1,
    updatedAt: r.updated_at,
  }
}

function validate(v: VariableInput): void {
  assertVariableName(v.name)
  if (Buffer.byteLength(v.value, 'utf8') > VARIABLE_LIMITS.valueBytes)
    invalid('value', `must be at most ${VARIABLE_LIMITS.valueBytes} bytes`)
  if (v.value.includes('\0')) invalid('value', 'must not contain NUL characters')
}

export function createVariables(deps: TenancyDeps, environments: Environments, events: TenancyEvents) {
  const { db, audit, clock, secrets } = deps

  async function upsert(
    trx: Transaction<Database>,
    envId: string,
    v: VariableInput,
  ): Promise<{ before: VariablesTable | undefined; after: VariablesTable }> {
    const before = await trx
      .selectFrom('variables')
      .selectAll()
      .where('environment_id', '=', envId)
      .where('name', '=', v.name)
      .executeTakeFirst()
    const now = clock.now().toISOString()
    const secret = v.secret ?? before?.secret === 1
    const after: VariablesTable = {
      environment_id: envId,
      name: v.name,
      value: secret ? secrets.seal(v.value, sealContext(envId, v.name)) : v.value,
      secret: secret ? 1 : 0,
      created_at: before?.created_at ?? now,
      updated_at: now,
    }
    if (before)
      await trx
        .updateTable('variables')
        .set(after)
        .where('environment_id', '=', envId)
        .where('name', '=', v.name)
        .execute()
    else await trx.insertInto('variables').values(after).execute()
    return { before, after }
  }

  async function assertRoom(
    trx: Transaction<Database>,
    envId: string,
    names: readonly string[],
  ): Promise<void> {
    const existing = await trx
      .selectFrom('variables')
      .select('name')
      .where('environment_id', '=', envId)
      .execute()
    const all = new Set([...existing.map((r) => r.name), ...names])
    if (all.size > VARIABLE_LIMITS.perEnvironment) {
      throw new ConflictError(
        TENANCY_ERRORS.tooMany,
        `an environment holds at most ${VARIABLE_LIMITS.perEnvironment} variables`,
        { publicCode: 'limit_reached' },
      )
    }
  }

  function view(r: VariablesTable | undefined): Record<string, unknown> | null {
    return r ? { value: r.secret === 1 ? MASK : r.value, secret: r.secret === 1 } : null
  }

  return {
    async list(principal: Principal, envId: string): Promise<{ items: Variable[]; nextCursor: null }> {
      await environments.load(principal, envId, 'variable.read')
      const rows = await db
        .selectFrom('variables')
        .selectAll()
        .where('environment_id', '=', envId)
        .orderBy('name')
        .execute()
      return { items: rows.map(toVariable), nextCursor: null }
    },

    async get(principal: Principal, envId: string, name: string): Promise<Variable> {
      await environments.load(principal, envId, 'variable.read')
      const row = await db
        .selectFrom('variables')
        .selectAll()
        .where('environment_id', '=', envId)
        .where('name', '=', name)
        .executeTakeFirst()
      if (!row)
        throw new NotFoundError(TENANCY_ERRORS.notFound, 'variable not found', { publicCode: 'not_found' })
      return toVariable(row)
    },

    /** Sets one variable; one audit event. */
    async set(
      principal: Principal,
      ctx: RequestContext,
      envId: string,
      input: VariableInput,
    ): Promise<{ variable: Variable; created: boolean }> {
      const env = await environments.load(principal, envId, 'variable.write')
      validate(input)
      const result = await db.transaction().execute(async (trx) => {
        await assertRoom(trx, envId, [input.name])
        const { before, after } = await upsert(trx, envId, input)
        await audit.record(trx, {
          actor: actorOf(principal),
          action: 'environment.variable.set',
          target: { type: 'variable', id: `${envId}/${input.name}` },
          workspaceId: env.workspace_id,
          projectId: env.project_id,
          environmentId: envId,
          changes: diffChanges(view(before), view(after)),
          context: ctx,
        })
        return { variable: toVariable(after), created: before === undefined }
      })
      await events.variablesChanged(envId)
      return result
    },

    /** Sets several variables at once (all or nothing); one audit event for the batch. */
    async setMany(
      principal: Principal,
      ctx: RequestContext,
      envId: string,
      inputs: readonly VariableInput[],
    ): Promise<{ items: Variable[]; nextCursor: null }> {
      const env = await environments.load(principal, envId, 'variable.write')
      if (inputs.length > VARIABLE_LIMITS.perRequest)
        invalid('variables', `at most ${VARIABLE_LIMITS.perRequest} per request`)
      inputs.forEach(validate)
      if (new Set(inputs.map((v) => v.name)).size !== inputs.length)
        invalid('variables', 'names must be unique')
      const result = await db.transaction().execute(async (trx) => {
        await assertRoom(
          trx,
          envId,
          inputs.map((v) => v.name),
        )
        const changes: Record<string, { before?: unknown; after?: unknown }> = {}
        for (const input of inputs) {
          const { before, after } = await upsert(trx, envId, input)
          Object.assign(
            changes,
            Object.fromEntries(
              Object.entries(diffChanges(view(before), view(after))).map(([k, v]) => [
                `${input.name}.${k}`,
                v,
              ]),
            ),
          )
        }
        await audit.record(trx, {
          actor: actorOf(principal),
          action: 'environment.variables.update',
          target: { type: 'environment', id: envId },
          workspaceId: env.workspace_id,
          projectId: env.project_id,
          environmentId: envId,
          changes,
          context: ctx,
        })
        const rows = await trx
          .selectFrom('variables')
          .selectAll()
          .where('environment_id', '=', envId)
          .orderBy('name')
          .execute()
        return { items: rows.map(toVariable), nextCursor: null }
      })
      await events.variablesChanged(envId)
      return result
    },

    async remove(principal: Principal, ctx: RequestContext, envId: string, name: string): Promise<void> {
      const env = await environments.load(principal, envId, 'variable.write')
      await db.transaction().execute(async (trx) => {
        const before = await trx
          .selectFrom('variables')
          .selectAll()
          .where('environment_id', '=', envId)
          .where('name', '=', name)
          .executeTakeFirst()
        if (!before)
          throw new NotFoundError(TENANCY_ERRORS.notFound, 'variable not found', { publicCode: 'not_found' })
        await trx
          .deleteFrom('variables')
          .where('environment_id', '=', envId)
          .where('name', '=', name)
          .execute()
        await audit.record(trx, {
          actor: actorOf(principal),
          action: 'environment.variable.delete',
          target: { type: 'variable', id: `${envId}/${name}` },
          workspaceId: env.workspace_id,
          projectId: env.project_id,
          environmentId: envId,
          changes: diffChanges(view(before), null),
          context: ctx,
        })
      })
      await events.variablesChanged(envId)
    },

    /** Plain values for the environment's processes (deployer only; never an API answer). */
    async resolve(envId: string): Promise<Record<string, string>> {
      const rows = await db.selectFrom('variables').selectAll().where('environment_id', '=', envId).execute()
      return Object.fromEntries(
        rows.map((r) => [
          r.name,
          r.secret === 1 ? secrets.open(r.value, sealContext(envId, r.name)) : r.value,
        ]),
      )
    },
  }
}

export type Variables = ReturnType<typeof createVariables>
