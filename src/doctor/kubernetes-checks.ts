import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { createKubernetesDriver, type EnvironmentTarget, type KubeClient } from '../deploy/index.js'
import type { CheckResult } from './checks.js'

/**
 * `palisade doctor --kubernetes`: can Palisade work in this cluster, and does the cluster enforce what it
 * applies? Permissions (SelfSubjectAccessReview for every call the driver makes), a server-side dry-run
 * of a whole environment, a canary environment with one connection that must pass and one that must be
 * refused (NetworkPolicy enforcement is the network plugin's job: this is how a user learns whether theirs
 * does it), then clean-up. Exit 1 on a failed check.
 */

/** Every call the driver and this doctor make (deploy/kubernetes/rbac.yaml grants exactly these). */
export const REQUIRED_PERMISSIONS: ReadonlyArray<{
  group: string
  resource: string
  verbs: readonly string[]
}> = [
  { group: '', resource: 'namespaces', verbs: ['get', 'list', 'create', 'patch', 'delete'] },
  { group: '', resource: 'configmaps', verbs: ['get', 'list', 'create', 'patch', 'delete'] },
  { group: '', resource: 'secrets', verbs: ['get', 'list', 'create', 'patch', 'delete'] },
  { group: '', resource: 'services', verbs: ['get', 'list', 'create', 'patch', 'delete'] },
  { group: '', resource: 'persistentvolumeclaims', verbs: ['get', 'list', 'create', 'patch', 'delete'] },
  { group: 'apps', resource: 'deployments', verbs: ['get', 'list', 'create', 'patch', 'delete'] },
  { group: 'apps', resource: 'statefulsets', verbs: ['get', 'list', 'create', 'patch', 'delete'] },
  { group: 'batch', resource: 'jobs', verbs: ['get', 'list', 'create', 'patch', 'delete'] },
  {
    group: 'networking.k8s.io',
    resource: 'networkpolicies',
    verbs: ['get', 'list', 'create', 'patch', 'delete'],
  },
]

export interface KubernetesDoctorOptions {
  readonly client: KubeClient
  /** How long the canary may take to start and answer (default 120 s). */
  readonly canaryTimeoutMs?: number
  /** The canary's image: must have `httpd` and `wget` (busybox). */
  readonly canaryImage?: string
}

const PROBE = (host: string) => ['wget', '-q', '-T', '5', '-O', '/dev/null', `http://${host}/`]

export async function runKubernetesDoctor(options: KubernetesDoctorOptions): Promise<CheckResult[]> {
  const kube = options.client
  const timeoutMs = options.canaryTimeoutMs ?? 120_000
  const image = options.canaryImage ?? 'docker.io/library/busybox:1.36'
  const results: CheckResult[] = []
  const fail = (check: string, err: unknown): CheckResult => ({
    check,
    status: 'fail',
    detail: err instanceof Error ? err.message : String(err),
  })

  // 1. The API server answers, with these credentials.
  try {
    const v = await kube.request('GET', '/version')
    if (v.status !== 200) throw new Error(`GET /version answered HTTP ${v.status}`)
    const git = (v.body as { gitVersion?: string } | undefined)?.gitVersion ?? 'unknown'
    results.push({ check: 'kubernetes api', status: 'ok', detail: `${kube.server} (Kubernetes ${git})` })
  } catch (err) {
    results.push(fail('kubernetes api', err))
    return results
  }

  // 2. Permissions, asked of the API server itself.
  const denied: string[] = []
  for (const p of REQUIRED_PERMISSIONS) {
    for (const verb of p.verbs) {
      const res = await kube.request('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: { group: p.group, resource: p.resource, verb } },
      })
      const allowed = (res.body as { status?: { allowed?: boolean } } | undefined)?.status?.allowed === true
      if (!allowed) denied.push(`${verb} ${p.group ? `${p.group}/` : ''}${p.resource}`)
    }
  }
  results.push(
    denied.length === 0
      ? { check: 'kubernetes permissions', status: 'ok', detail: 'every call the driver makes is allowed' }
      : {
          check: 'kubernetes permissions',
          status: 'fail',
          detail: `denied: ${denied.join(', ')} (apply deploy/kubernetes/rbac.yaml)`,
        },
  )
  if (denied.length > 0) return results

  const id = `env_doctor${randomBytes(5).toString('hex')}`
  const canary: EnvironmentTarget = {
    environmentId: id,
    workspace: 'palisade-doctor',
    project: 'canary',
    environment: 'canary',
    sizing: { instances: 1, memoryMb: 64, cpu: 0.1 },
    healthCheckPath: '/',
    persistentDirs: [],
    variables: {},
    secrets: {},
    egress: 'none',
    ipAllow: [],
  }
  const driver = createKubernetesDriver({ client: kube, timeoutMs, pollMs: 500 })
  const suffix = randomBytes(4).toString('hex')
  const probeNamespaces = [`pal-doctor-edge-${suffix}`, `pal-doctor-other-${suffix}`] as const
  try {
    // 3. A whole environment, server-side dry-run (the namespace is created for real: dry-runs need it).
    try {
      await driver.dryRun(canary, { number: 1, image, argv: [] })
      results.push({
        check: 'kubernetes dry-run',
        status: 'ok',
        detail: 'a full environment passes validation and admission',
      })
    } catch (err) {
      results.push(fail('kubernetes dry-run', err))
      return results
    }

    // 4. The canary: an allowed connection (from a namespace labelled as the edge) and a must-be-denied one.
    results.push(await enforcement(kube, driver, canary, image, probeNamespaces, timeoutMs))
  } finally {
    // 5. Clean-up, reported.
    try {
      await Promise.all([
        driver.removeEnvironment(id),
        ...probeNamespaces.map(async (ns) => {
          await kube.remove('v1', 'Namespace', undefined, ns)
          for (let i = 0; i < timeoutMs / 500 && (await kube.get('v1', 'Namespace', undefined, ns)); i++)
            await sleep(500)
        }),
      ])
      results.push({ check: 'kubernetes clean-up', status: 'ok', detail: 'canary namespaces removed' })
    } catch (err) {
      results.push(fail('kubernetes clean-up', err))
    }
  }
  return results
}

async function enforcement(
  kube: KubeClient,
  driver: ReturnType<typeof createKubernetesDriver>,
  canary: EnvironmentTarget,
  image: string,
  probeNamespaces: readonly [string, string],
  timeoutMs: number,
): Promise<CheckResult> {
  const check = 'network policy enforcement'
  try {
    await driver.applyEnvironment(canary)
    await driver.deploy(
      canary,
      { number: 1, image, argv: ['httpd', '-f', '-p', '8080'], readOnlyRoot: true },
      { timeoutMs },
    )
  } catch (err) {
    return {
      check,
      status: 'warn',
      detail: `not determined: the canary did not start (${err instanceof Error ? err.message : String(err)})`,
    }
  }
  const host = `web.pal-${canary.environmentId.replace(/_/g, '-')}.svc.cluster.local`
  const outcome = async (ns: string, edge: boolean): Promise<'succeeded' | 'failed' | 'running'> => {
    const labels = {
      'app.kubernetes.io/managed-by': 'palisade',
      ...(edge ? { 'palisade.dev/role': 'edge' } : {}),
    }
    await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels } })
    await kube.apply({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'probe', namespace: ns, labels: { 'app.kubernetes.io/managed-by': 'palisade' } },
      spec: {
        backoffLimit: 0,
        activeDeadlineSeconds: Math.ceil(timeoutMs / 1000),
        template: {
          metadata: { labels: { 'app.kubernetes.io/managed-by': 'palisade', 'palisade.dev/job': 'probe' } },
          spec: {
            restartPolicy: 'Never',
            automountServiceAccountToken: false,
            containers: [{ name: 'probe', image, command: PROBE(host) }],
          },
        },
      },
    })
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      const j = await kube.get('batch/v1', 'Job', ns, 'probe')
      const st = (j?.['status'] ?? {}) as { succeeded?: number; failed?: number }
      if ((st.succeeded ?? 0) > 0) return 'succeeded'
      if ((st.failed ?? 0) > 0) return 'failed'
      await sleep(500)
    }
    return 'running'
  }
  const [allowed, denied] = await Promise.all([
    outcome(probeNamespaces[0], true),
    outcome(probeNamespaces[1], false),
  ])
  if (allowed === 'running' || denied === 'running')
    return { check, status: 'warn', detail: 'not determined: the probe pods did not finish in time' }
  if (allowed === 'failed')
    return { check, status: 'warn', detail: 'not determined: the allowed connection (edge → app) failed too' }
  if (denied === 'succeeded')
    return {
      check,
      status: 'fail',
      detail:
        "NetworkPolicies are NOT enforced: a connection they deny went through (the cluster's network plugin ignores them)",
    }
  return { check, status: 'ok', detail: 'enforced: edge → app allowed, another namespace → app refused' }
}
