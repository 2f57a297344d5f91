import type { TenancyDeps } from './deps.js'
import type { TenancyEvents } from './events.js'
import { sealContext } from './variables.js'

/**
 * The plain values of each environment's secret variables, kept in the control plane's memory so that the
 * edge can mask them in access-log lines synchronously (a value that equals a secret never reaches a log).
 * Loaded at start and refreshed after every variable change.
 */
export interface SecretValues {
  /** The environment's secret values, or undefined when it has none. */
  get(environmentId: string): readonly string[] | undefined
  /** The environment's secret values read from the store now (the deployer masks build, job and app logs). */
  read(environmentId: string): Promise<string[]>
  load(): Promise<void>
}

export function createSecretValues(deps: TenancyDeps, events: TenancyEvents): SecretValues {
  const { db, secrets } = deps
  const byEnv = new Map<string, readonly string[]>()

  async function read(envId: string): Promise<string[]> {
    const rows = await db
      .selectFrom('variables')
      .select(['name', 'value'])
      .where('environment_id', '=', envId)
      .where('secret', '=', 1)
      .execute()
    return rows.map((r) => secrets.open(r.value, sealContext(envId, r.name)))
  }

  async function refresh(envId: string): Promise<void> {
    const values = await read(envId)
    if (values.length === 0) byEnv.delete(envId)
    else byEnv.set(envId, Object.freeze(values))
  }

  events.onVariablesChanged(refresh)
  return {
    get: (envId) => byEnv.get(envId),
    read,
    async load() {
      const envs = await db
        .selectFrom('variables')
        .select('environment_id')
        .where('secret', '=', 1)
        .distinct()
        .execute()
      for (const r of envs) await refresh(r.environment_id)
    },
  }
}
