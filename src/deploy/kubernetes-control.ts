import type { AuditLog } from '../audit/index.js'
import { PLATFORM_CONTEXT } from '../shared/context.js'
import type { Database, Kysely } from '../store/index.js'
import type { DriftReport, EnvironmentEgress, EnvironmentTarget } from './drivers/environment-driver.js'
import { appServiceHost, serviceHost, type KubernetesDriver } from './drivers/kubernetes/kubernetes-driver.js'
import { runtimeImage, SERVICE_ENGINES } from './drivers/kubernetes/manifests.js'
import { PalisadeError } from '../shared/errors.js'
import { KUBE_ERRORS } from './drivers/kubernetes/kube-errors.js'
import type { ClusterRelease, ClusterReleases } from './types.js'

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
  /** The connection variables of the environment's services (DATABASE_URL, ...): put in its Secret. */
  readonly serviceVariables?: (environmentId: string) => Promise<Record<string, string>>
  /** Registry in-cluster builds push to (PALISADE_K8S_REGISTRY); without it only custom images deploy. */
  readonly registry?: string | undefined
}

export interface KubernetesControl {
  targets(environmentIds?: readonly string[]): Promise<EnvironmentTarget[]>
  /** Applies one environment (after a create or a change). */
  apply(environmentId: string): Promise<void>
  /** Puts back whatever drifted, one audit event per repaired environment. */
  reconcileAll(): Promise<DriftReport[]>
  /** Removes the namespaces of environments that no longer exist; answers their ids. */
  sweepRemoved(): Promise<string[]>
  /** The deployer's seam: releases and jobs of every environment run in the cluster. */
  readonly releases: ClusterReleases
  /** The services' seam: MariaDB, Redis and PostgreSQL as StatefulSets of the environment's namespace. */
  readonly services: ClusterServices
}

/** What the services capability needs from the cluster (src/services: `ServicesDeps.cluster`). */
export interface ClusterServices {
  /** Applies the service's Secret, headless Service and StatefulSet; resolves once its pod is ready. */
  provision(
    environmentId: string,
    service: {
      readonly name: string
      readonly kind: 'mariadb' | 'redis' | 'postgresql'
      readonly password: string
    },
  ): Promise<void>
  remove(environmentId: string, name: string, deleteData: boolean): Promise<void>
  /** Where the environment's pods reach the service: its cluster DNS name and port. */
  address(
    environmentId: string,
    name: string,
    kind: 'mariadb' | 'redis' | 'postgresql',
  ): { readonly host: string; readonly port: number }
  /** The engine's version as the cluster runs it (the image's tag). */
  version(kind: 'mariadb' | 'redis' | 'postgresql'): string
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
      // Service URLs hold passwords: they go to the Secret with the secret variables.
      const fromServices = deps.serviceVariables ? await deps.serviceVariables(r.id) : {}
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
        secrets: {
          ...fromServices,
          ...Object.fromEntries(Object.entries(values).filter(([k]) => secretNames.has(k))),
        },
        egress: egressOf(r.egress),
        // IP allow lists and passwords are enforced by the edge in front of every environment.
        ipAllow: [],
      })
    }
    return out
  }

  const targetOf = async (environmentId: string): Promise<EnvironmentTarget> => {
    const [t] = await targets([environmentId])
    if (!t) throw new PalisadeError('not_found', KUBE_ERRORS.notFound, 'the environment no longer exists')
    return t
  }
  const timeoutMs = 300_000

  const check: ClusterReleases['check'] = ({ runtime, repository }) => {
    if (runtime.startsWith('custom:')) {
      runtimeImage(runtime, null)
      return
    }
    if (!deps.registry)
      throw new PalisadeError(
        'conflict',
        KUBE_ERRORS.conflict,
        'builds from git need a registry: set PALISADE_K8S_REGISTRY (or use a custom:<image> runtime)',
      )
    if (!repository?.startsWith('https://'))
      throw new PalisadeError(
        'conflict',
        KUBE_ERRORS.conflict,
        "in-cluster builds fetch over https: set the project's repository to an https git URL",
      )
  }

  const releases: ClusterReleases = {
    check,
    async image(environmentId, b, onLog): Promise<ClusterRelease> {
      check({ runtime: b.runtime, repository: b.repository })
      const custom = /^custom:(.+)$/.exec(b.runtime)
      if (custom) {
        const image = runtimeImage(b.runtime, null)
        onLog(`custom runtime: the release runs the image ${image} as it is (no build)`)
        return { number: b.number, image, argv: [], readOnlyRoot: false }
      }
      // A standard runtime: the catalog's image of the pinned version, with the app built on top in the cluster.
      const baseImage = runtimeImage(b.runtime, b.runtimeVersion)
      if (!deps.registry || !b.repository) throw new Error('unreachable: checked above')
      const t = await targetOf(environmentId)
      await driver.applyEnvironment(t)
      const ref = /^[0-9a-f]{40}$/.test(b.ref) || b.ref.startsWith('refs/') ? b.ref : `refs/heads/${b.ref}`
      onLog(
        `building ${b.repository} at ${ref} in the cluster (kaniko Job build-${b.number}, on ${baseImage})`,
      )
      const started = Date.now()
      const image = await driver.build(t, {
        number: b.number,
        repository: b.repository,
        ref,
        registry: deps.registry,
        runtime: b.runtime,
        baseImage,
      })
      onLog(`image ${image} built and pushed in ${Date.now() - started} ms`)
      // The generated image starts the app itself (CMD), read-only at run time; static sites are nginx's.
      return { number: b.number, image, argv: [], readOnlyRoot: b.runtime !== 'static' }
    },
    async rollOut(environmentId, release) {
      const t = await targetOf(environmentId)
      await driver.applyEnvironment(t)
      await driver.deploy(t, release, { timeoutMs })
    },
    async rollBackTo(environmentId, number) {
      const t = await targetOf(environmentId)
      await driver.applyEnvironment(t)
      await driver.rollbackTo(t, number, { timeoutMs })
    },
    async restart(environmentId) {
      await driver.restart(await targetOf(environmentId), { timeoutMs })
    },
    async runJob(environmentId, job) {
      const t = await targetOf(environmentId)
      const state = await driver.runJob(t, job)
      return state === 'succeeded' ? 'succeeded' : 'failed'
    },
    upstream: (environmentId) => ({ host: appServiceHost(environmentId), port: 80 }),
  }

  const services: ClusterServices = {
    async provision(environmentId, s) {
      const t = await targetOf(environmentId)
      await driver.applyEnvironment(t)
      await driver.provisionService(t, s)
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const st = await driver.status(environmentId)
        if (st.services.some((x) => x.name === s.name && x.state === 'running')) break
        if (Date.now() > deadline)
          throw new PalisadeError(
            'unavailable',
            KUBE_ERRORS.timeout,
            `the service ${s.name} did not become ready in ${timeoutMs} ms`,
          )
        await new Promise((r) => setTimeout(r, 250))
      }
      // Its connection variables reach the app's Secret now, not at the next deployment.
      await driver.applyEnvironment(await targetOf(environmentId))
    },
    async remove(environmentId, name, deleteData) {
      await driver.removeService(environmentId, name, deleteData)
      const [t] = await targets([environmentId])
      if (t) await driver.applyEnvironment(t)
    },
    address: (environmentId, name, kind) => ({
      host: serviceHost(environmentId, name),
      port: SERVICE_ENGINES[kind].port,
    }),
    version: (kind) => SERVICE_ENGINES[kind].image.split(':').at(-1) ?? 'unknown',
  }

  const control: KubernetesControl = {
    releases,
    services,
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
