import type { Database, Transaction } from '../store/index.js'

/** `<env>.<project>.<workspace>.<base domain>`: the default host of an environment. */
export function defaultHost(env: string, project: string, workspace: string, baseDomain: string): string {
  return `${env}.${project}.${workspace}.${baseDomain}`
}

/**
 * After a rename, every environment below gets its new default host in the same transaction. Answers their
 * ids, for the routes to be republished once the transaction is committed.
 */
export async function recomputeHosts(
  trx: Transaction<Database>,
  baseDomain: string,
  scope: { workspaceId: string } | { projectId: string },
): Promise<string[]> {
  let q = trx
    .selectFrom('environments')
    .innerJoin('projects', 'projects.id', 'environments.project_id')
    .innerJoin('workspaces', 'workspaces.id', 'environments.workspace_id')
    .select([
      'environments.id',
      'environments.name as env',
      'projects.name as project',
      'workspaces.name as workspace',
    ])
  q =
    'workspaceId' in scope
      ? q.where('environments.workspace_id', '=', scope.workspaceId)
      : q.where('environments.project_id', '=', scope.projectId)
  const rows = await q.execute()
  for (const r of rows) {
    await trx
      .updateTable('environments')
      .set({ host: defaultHost(r.env, r.project, r.workspace, baseDomain) })
      .where('id', '=', r.id)
      .execute()
  }
  return rows.map((r) => r.id)
}
