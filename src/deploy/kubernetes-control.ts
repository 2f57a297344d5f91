import type { AuditLog } from '../audit/index.js'
import { PLATFORM_CONTEXT } from '../shared/context.js'
import type { Database, Kysely } from '../store/index.js'
import type { DriftReport, EnvironmentEgress, EnvironmentTarget } from './drivers/environment-driver.js'
import type { KubernetesDriver } from './drivers/kubernetes/kubernetes-driver.js'

/**
 * Keeps a cluster in line with the store under PALISADE_DRIVER=kubernetes: every environment is applied as
 * its namespace, variables, claims, Service and NetworkPolicies; a control-plane start reconciles them all
 * (what drifted is put back, and the audit log says so, by the platform actor); environments deleted from
 * the store lose their namespace.
 */
export interface KubernetesControlDeps {
  readonly db: Kysely<Database>
  readonly audit: AuditLog
  readonly driver: KubernetesDriver
  /** The environment's variables in plain text (tenancy's resolve; never an API answer). */
  readonly resolveVariables: (environmentId: string) => Promise<Record<string, string>>
}

export interface KubernetesControl {
  targets(environmentIds?: readonly string[]): Promise<EnvironmentTarget[]>
  /** Applies one environment (after a create or a change). */
  apply(environmentId: string): Promise<void>
  /** Puts back whatever drifted, one audit event per repaired environment. */
  reconcileAll(): Promise<DriftReport[]>
  /** Removes the namespaces of environments that no longer exist; answers their ids. */
  sweepRemoved(): Promise<string[]>
}

/** NetworkPolicies hold addresses, not host names: an egress list of host names becomes `none` here. */
function egressOf(raw: string | null): EnvironmentEgress {
  if (raw === null) return 'public'
  try {
    const app = (JSON.parse(raw) as { app?: unknown }).app
    return app === 'public' ? 'public' : 'none'
  } catch {
    return 'none'
  }
}

export function createKubernetesControl(deps: KubernetesControlDeps): KubernetesControl {
  const { db, audit, driver } = deps

  const targets = async (ids?: readonly string[]): Promise<EnvironmentTarget[]> => {
    let q = db
      .selectFrom('environments as e')
      .innerJoin('projects as p', 'p.id', 'e.project_id')
      .innerJoin('workspaces as w', 'w.id', 'e.workspace_id')
      .select([
        'e.id as id',
        'e.name as name',
        'e.sizing as sizing',
        'e.persistent_dirs as persistentDirs',
        'e.health_check_path as health',
        'e.egress as egress',
        'p.name as project',
        'w.name as workspace',
      ])
    if (ids) {
      if (ids.length === 0) return []
      q = q.where('e.id', 'in', [...ids])
    }
    const rows = await q.execute()
    const out: EnvironmentTarget[] = []
    for (const r of rows) {
      const values = await deps.resolveVariables(r.id)
      const secretNames = new Set(
        (
          await db
            .selectFrom('variables')
            .select('name')
            .where('environment_id', '=', r.id)
            .where('secret', '=', 1)
            .execute()
        ).map((v) => v.name),
      )
      const sizing = JSON.parse(r.sizing) as EnvironmentTarget['sizing']
      out.push({
        environmentId: r.id,
        workspace: r.workspace,
        project: r.project,
        environment: r.name,
        sizing: { instances: sizing.instances, memoryMb: sizing.memoryMb, cpu: sizing.cpu },
        healthCheckPath: r.health,
        persistentDirs: JSON.parse(r.persistentDirs) as string[],
        variables: Object.fromEntries(Object.entries(values).filter(([k]) => !secretNames.has(k))),
        secrets: Object.fromEntries(Object.entries(values).filter(([k]) => secretNames.has(k))),
        egress: egressOf(r.egress),
        // IP allow lists and passwords are enforced by the edge in front of every environment.
        ipAllow: [],
      })
    }
    return out
  }

  const control: KubernetesControl = {
    targets,
    async apply(environmentId) {
      const [t] = await targets([environmentId])
      if (t) await driver.applyEnvironment(t)
    },
    async reconcileAll() {
      const all = await targets()
      const reports = await driver.reconcile(all)
      const byId = new Map(all.map((t) => [t.environmentId, t]))
      for (const r of reports) {
        const row = await db
          .selectFrom('environments')
          .select(['workspace_id', 'project_id'])
          .where('id', '=', r.environmentId)
          .executeTakeFirst()
        if (!row || !byId.has(r.environmentId)) continue
        await audit.recordAlone({
          actor: { type: 'platform', id: 'platform' },
          action: 'environment.kubernetes.reconcile',
          target: { type: 'environment', id: r.environmentId },
          workspaceId: row.workspace_id,
          projectId: row.project_id,
          environmentId: r.environmentId,
          changes: { repaired: { before: null, after: [...r.repaired] } },
          context: PLATFORM_CONTEXT,
        })
      }
      return reports
    },
    async sweepRemoved() {
      const existing = new Set((await db.selectFrom('environments').select('id').execute()).map((r) => r.id))
      const gone = (await driver.managedEnvironmentIds()).filter((id) => !existing.has(id))
      for (const id of gone) await driver.removeEnvironment(id)
      return gone
    },
  }
  return Object.freeze(control)
}
