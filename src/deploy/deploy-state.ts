import type { Database, Kysely } from '../store/index.js'

export interface DeployStatePatch {
  readonly current_release?: number | null
  readonly current_deployment_id?: string | null
  readonly maintenance?: number
}

/** Writes an environment's deploy state in one statement, creating its row on first use (safe when two race). */
export async function saveDeployState(
  db: Kysely<Database>,
  envId: string,
  patch: DeployStatePatch,
  at: string,
): Promise<void> {
  await db
    .insertInto('deploy_states')
    .values({
      environment_id: envId,
      current_release: null,
      current_deployment_id: null,
      maintenance: 0,
      ...patch,
      updated_at: at,
    })
    .onConflict((oc) => oc.column('environment_id').doUpdateSet({ ...patch, updated_at: at }))
    .execute()
}
