import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { PalisadeError } from '../../../shared/errors.js'
import type {
  DriftReport,
  EnvironmentDriver,
  EnvironmentEgress,
  EnvironmentStatus,
  EnvironmentTarget,
  JobState,
  ReleaseArtifact,
  ServiceKind,
  ServiceState,
} from '../environment-driver.js'
import { errorFromStatus, isRecord, type KubeClient, type KubeObject } from './kube-client.js'
import { KUBE_ERRORS } from './kube-errors.js'
import {
  assertName,
  assertRelease,
  assertTarget,
  buildDockerfile,
  buildDockerfileManifest,
  buildJobManifest,
  deploymentManifest,
  environmentManifests,
  IP_ALLOW_ANNOTATION,
  jobManifest,
  MANAGED_BY,
  namespaceOf,
  releasesManifest,
  SERVICE_ENGINES,
  serviceManifests,
  validateManifest,
  type ReleaseSpec,
} from './manifests.js'
import { assertReadBack, missingFields } from './readback.js'

export interface KubernetesDriverOptions {
  readonly client: KubeClient
  /** How long a rollout, job or namespace deletion may take (default 120 s). */
  readonly timeoutMs?: number
  /** Poll interval while waiting on the cluster (default 250 ms). */
  readonly pollMs?: number
  /** Releases kept for rollback (default 10). */
  readonly keepReleases?: number
}

export interface KubernetesDriver extends EnvironmentDriver {
  readonly name: 'kubernetes'
  /**
   * Compares the cluster with what the environments should be and re-applies what drifted (an object
   * deleted or edited by hand); answers one report per environment that needed repair. Lists each kind
   * once across namespaces, so 100 environments cost a handful of calls plus the repairs.
   */
  reconcile(targets: readonly EnvironmentTarget[]): Promise<DriftReport[]>
  /** Ids of the environments that have a namespace in the cluster. */
  managedEnvironmentIds(): Promise<string[]>
  /** Server-side dry-run of a whole environment (doctor). */
  dryRun(target: EnvironmentTarget, release: ReleaseArtifact): Promise<void>
  /**
   * Builds a release's image in the cluster: a kaniko Job (`build-<n>`) fetching `repository` at `ref` over
   * https, with the Dockerfile of `buildDockerfile` (the runtime image of the pinned version underneath),
   * pushing to `registry`. Resolves with the image once the Job succeeded; throws PAL_KUBE_FAILED otherwise.
   */
  build(
    target: EnvironmentTarget,
    build: ImageBuild,
    options?: { readonly timeoutMs?: number },
  ): Promise<string>
  /** Rolls out the kept spec of release `number` again (a rollback to a chosen release). */
  rollbackTo(
    target: EnvironmentTarget,
    number: number,
    options?: { readonly timeoutMs?: number },
  ): Promise<void>
  /** New pods for the current release (a rolling restart: the old ones serve until the new are ready). */
  restart(target: EnvironmentTarget, options?: { readonly timeoutMs?: number }): Promise<void>
  /** Removes a service's StatefulSet and Service; with `deleteData` also its claim and Secret (password). */
  removeService(environmentId: string, name: string, deleteData: boolean): Promise<void>
}

export interface ImageBuild {
  readonly number: number
  /** An https git URL the cluster can reach. */
  readonly repository: string
  /** `refs/heads/<branch>`, a tag or a commit. */
  readonly ref: string
  /** `host[/path]` the build pushes to (PALISADE_K8S_REGISTRY). */
  readonly registry: string
  /** The environment's runtime setting (`node@20`, `static`, ...). */
  readonly runtime: string
  /** The runtime catalog's image of the pinned version (`runtimeImage`). */
  readonly baseImage: string
}

/** Where an environment's pods reach one of its services: the StatefulSet's headless Service in its namespace. */
export function serviceHost(environmentId: string, name: string): string {
  assertName('service', name)
  return `svc-${name}.${namespaceOf(environmentId)}.svc.cluster.local`
}

/** Where the edge (running in the cluster, namespace labelled palisade.dev/role=edge) reaches the app. */
export function appServiceHost(environmentId: string): string {
  return `web.${namespaceOf(environmentId)}.svc.cluster.local`
}

const SELECTOR = 'app.kubernetes.io/managed-by=palisade'
/** The kinds an environment consists of, listed once per reconcile. */
const KINDS: ReadonlyArray<readonly [string, string]> = [
  ['v1', 'Namespace'],
  ['v1', 'ConfigMap'],
  ['v1', 'Secret'],
  ['v1', 'Service'],
  ['v1', 'PersistentVolumeClaim'],
  ['networking.k8s.io/v1', 'NetworkPolicy'],
  ['apps/v1', 'Deployment'],
  ['apps/v1', 'StatefulSet'],
]

export function createKubernetesDriver(options: KubernetesDriverOptions): KubernetesDriver {
  const opts = Object.freeze({ timeoutMs: 120_000, pollMs: 250, keepReleases: 10, ...options })
  const kube = opts.client

  /** Validate, apply, read back: the one way anything is sent. */
  const send = async (obj: KubeObject, dryRun = false): Promise<KubeObject> => {
    validateManifest(obj)
    const live = await kube.apply(obj, { dryRun })
    assertReadBack(obj, live)
    return live
  }

  const until = async <T>(
    what: string,
    check: () => Promise<T | undefined>,
    timeoutMs = opts.timeoutMs,
  ): Promise<T> => {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const v = await check()
      if (v !== undefined) return v
      if (Date.now() > deadline)
        throw new PalisadeError(
          'unavailable',
          KUBE_ERRORS.timeout,
          `${what} did not finish in ${timeoutMs} ms`,
        )
      await sleep(opts.pollMs)
    }
  }

  const readReleases = async (ns: string): Promise<{ releases: ReleaseSpec[]; current: number | null }> => {
    const cm = await kube.get('v1', 'ConfigMap', ns, 'palisade-releases')
    const data = cm && isRecord(cm['data']) ? cm['data'] : {}
    const releases: ReleaseSpec[] = []
    for (const [k, v] of Object.entries(data)) {
      if (!/^r[0-9]+$/.test(k) || typeof v !== 'string') continue
      try {
        releases.push(JSON.parse(v) as ReleaseSpec)
      } catch {
        // A hand-edited entry that is not JSON is skipped: it cannot be rolled back to.
      }
    }
    releases.sort((a, b) => a.number - b.number)
    const current = Number(data['current'])
    return { releases, current: Number.isInteger(current) && current > 0 ? current : null }
  }

  const toSpec = (r: ReleaseArtifact): ReleaseSpec => {
    if (!r.image)
      throw new PalisadeError('invalid', KUBE_ERRORS.invalid, 'a Kubernetes release needs an image')
    const spec: ReleaseSpec = {
      number: r.number,
      image: r.image,
      argv: [...r.argv],
      readOnlyRoot: r.readOnlyRoot ?? true,
    }
    assertRelease(spec)
    return spec
  }

  /** Rolled out: every desired replica is of this generation, ready and available, and no old one is left. */
  const rolledOut = (d: KubeObject | undefined, replicas: number): boolean => {
    if (!d) return false
    const meta = d.metadata as { generation?: number }
    const st = isRecord(d['status']) ? d['status'] : {}
    const n = (k: string): number => (typeof st[k] === 'number' ? st[k] : 0)
    return (
      n('observedGeneration') >= (meta.generation ?? 0) &&
      n('updatedReplicas') === replicas &&
      n('readyReplicas') === replicas &&
      n('availableReplicas') === replicas &&
      n('replicas') === replicas
    )
  }

  const rollOut = async (t: EnvironmentTarget, spec: ReleaseSpec, timeoutMs: number): Promise<void> => {
    const ns = namespaceOf(t.environmentId)
    await send(deploymentManifest(t, spec))
    await until(
      `the rollout of release ${spec.number} in ${ns}`,
      async () => {
        const d = await kube.get('apps/v1', 'Deployment', ns, 'web')
        const st = d && isRecord(d['status']) ? d['status'] : {}
        const conds = Array.isArray(st['conditions'])
          ? (st['conditions'] as Array<Record<string, unknown>>)
          : []
        if (conds.some((c) => c['type'] === 'Progressing' && c['reason'] === 'ProgressDeadlineExceeded'))
          throw new PalisadeError(
            'unavailable',
            KUBE_ERRORS.failed,
            `release ${spec.number} did not become ready in ${ns}`,
          )
        return rolledOut(d, t.sizing.instances) ? true : undefined
      },
      timeoutMs,
    )
  }

  const writeReleases = async (
    t: EnvironmentTarget,
    releases: ReleaseSpec[],
    current: number,
  ): Promise<void> => {
    const kept = releases.slice(-opts.keepReleases)
    if (!kept.some((r) => r.number === current)) {
      const cur = releases.find((r) => r.number === current)
      if (cur) kept.unshift(cur)
    }
    await send(releasesManifest(t, kept, current))
  }

  const applyEnvironment = async (t: EnvironmentTarget): Promise<void> => {
    const objs = environmentManifests(t)
    for (const o of objs) validateManifest(o)
    const [nsObj, ...rest] = objs
    if (nsObj) await send(nsObj)
    await Promise.all(
      rest.map(async (o) => {
        // A claim's spec is immutable once bound, and a no-op apply still bumps it in 1.20: create only.
        if (
          o.kind === 'PersistentVolumeClaim' &&
          (await kube.get('v1', o.kind, o.metadata.namespace, o.metadata.name))
        )
          return
        await send(o)
      }),
    )
    // A policy no longer wanted (egress switched to none) is removed; nothing else is ever pruned here.
    const ns = namespaceOf(t.environmentId)
    const wanted = new Set(objs.filter((o) => o.kind === 'NetworkPolicy').map((o) => o.metadata.name))
    for (const p of await kube.list('networking.k8s.io/v1', 'NetworkPolicy', ns, SELECTOR)) {
      if (!wanted.has(p.metadata.name))
        await kube.remove('networking.k8s.io/v1', 'NetworkPolicy', ns, p.metadata.name)
    }
  }

  const driver: KubernetesDriver = {
    name: 'kubernetes',
    applyEnvironment,

    async deploy(t, release, o = {}) {
      assertTarget(t)
      const spec = toSpec(release)
      const ns = namespaceOf(t.environmentId)
      const { releases, current } = await readReleases(ns)
      if (releases.some((r) => r.number === spec.number && JSON.stringify(r) !== JSON.stringify(spec)))
        throw new PalisadeError(
          'conflict',
          KUBE_ERRORS.conflict,
          `release ${spec.number} already exists with another spec`,
        )
      try {
        await rollOut(t, spec, o.timeoutMs ?? opts.timeoutMs)
      } catch (err) {
        // maxUnavailable 0 kept the old pods serving; put the old spec back so the Deployment says so too.
        const prev = releases.find((r) => r.number === current)
        if (prev) await send(deploymentManifest(t, prev)).catch(() => undefined)
        throw err
      }
      await writeReleases(t, [...releases.filter((r) => r.number !== spec.number), spec], spec.number)
    },

    async rollback(t, o = {}) {
      assertTarget(t)
      const ns = namespaceOf(t.environmentId)
      const { releases, current } = await readReleases(ns)
      const previous = releases.filter((r) => current === null || r.number < current).at(-1)
      if (!previous)
        throw new PalisadeError(
          'conflict',
          KUBE_ERRORS.conflict,
          'there is no earlier release to roll back to',
        )
      await rollOut(t, previous, o.timeoutMs ?? opts.timeoutMs)
      await writeReleases(t, releases, previous.number)
      return previous.number
    },

    async runJob(t, job) {
      assertTarget(t)
      assertName('job', job.name)
      const ns = namespaceOf(t.environmentId)
      const { releases, current } = await readReleases(ns)
      const rel = releases.find((r) => r.number === current)
      if (!rel) throw new PalisadeError('conflict', KUBE_ERRORS.conflict, 'a job needs a deployed release')
      const seconds = Math.max(1, Math.ceil(job.timeoutMs / 1000))
      await send(jobManifest(t, rel, job.name, job.argv, seconds))
      return until(
        `job ${job.name} in ${ns}`,
        async () => {
          const state = jobState(await kube.get('batch/v1', 'Job', ns, job.name))
          return state === 'running' ? undefined : state
        },
        job.timeoutMs + 30_000,
      )
    },

    async provisionService(t, s) {
      assertTarget(t)
      assertName('service', s.name)
      const ns = namespaceOf(t.environmentId)
      // An existing service keeps its password (re-applying would otherwise rotate it under the app).
      const existing = await kube.get('v1', 'Secret', ns, `svc-${s.name}`)
      const data = existing && isRecord(existing['data']) ? existing['data'] : {}
      const password =
        typeof data['password'] === 'string'
          ? Buffer.from(data['password'], 'base64').toString('utf8')
          : (s.password ?? randomBytes(24).toString('hex'))
      for (const o of serviceManifests(t, { ...s, password })) await send(o)
    },

    async removeEnvironment(environmentId) {
      const ns = namespaceOf(environmentId)
      await kube.remove('v1', 'Namespace', undefined, ns)
      await until(`deleting namespace ${ns}`, async () =>
        (await kube.get('v1', 'Namespace', undefined, ns)) ? undefined : true,
      )
    },

    async status(environmentId): Promise<EnvironmentStatus> {
      const ns = namespaceOf(environmentId)
      const nsObj = await kube.get('v1', 'Namespace', undefined, ns)
      if (!nsObj) {
        return {
          exists: false,
          currentRelease: null,
          releases: [],
          desiredInstances: 0,
          readyInstances: 0,
          services: [],
          jobs: [],
          ipAllow: [],
          egress: 'none',
        }
      }
      const [d, rel, sets, jobs, policies] = await Promise.all([
        kube.get('apps/v1', 'Deployment', ns, 'web'),
        readReleases(ns),
        kube.list('apps/v1', 'StatefulSet', ns, SELECTOR),
        kube.list('batch/v1', 'Job', ns, `${SELECTOR},palisade.dev/role=job`),
        kube.list('networking.k8s.io/v1', 'NetworkPolicy', ns, SELECTOR),
      ])
      const spec = d && isRecord(d['spec']) ? d['spec'] : {}
      const desired = typeof spec['replicas'] === 'number' ? spec['replicas'] : 0
      const st = d && isRecord(d['status']) ? d['status'] : {}
      const deployed = d?.metadata.annotations?.['palisade.dev/release']
      return {
        exists: true,
        currentRelease: d && rolledOut(d, desired) && deployed ? Number(deployed) : null,
        releases: rel.releases.map((r) => r.number),
        desiredInstances: desired,
        readyInstances: typeof st['readyReplicas'] === 'number' ? st['readyReplicas'] : 0,
        services: sets.map((s) => {
          const kind = (
            s.metadata.labels?.['palisade.dev/service'] ? serviceKindOf(s) : 'redis'
          ) satisfies ServiceKind
          const ready =
            isRecord(s['status']) && typeof s['status']['readyReplicas'] === 'number'
              ? s['status']['readyReplicas']
              : 0
          const state: ServiceState = ready >= 1 ? 'running' : 'provisioning'
          return { name: s.metadata.labels?.['palisade.dev/service'] ?? s.metadata.name, kind, state }
        }),
        jobs: jobs.map((j) => ({ name: j.metadata.name, state: jobState(j) })),
        ipAllow: (nsObj.metadata.annotations?.[IP_ALLOW_ANNOTATION] ?? '').split(',').filter((c) => c !== ''),
        egress: egressView(policies),
      }
    },

    async reconcile(targets) {
      const live = new Map<string, KubeObject>()
      await Promise.all(
        KINDS.map(async ([apiVersion, kind]) => {
          for (const o of await kube.list(apiVersion, kind, undefined, SELECTOR))
            live.set(`${kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`, o)
        }),
      )
      const reports: DriftReport[] = []
      let next = 0
      const work = async (): Promise<void> => {
        for (let i = next++; i < targets.length; i = next++) {
          const t = targets[i]
          if (!t) continue
          const ns = namespaceOf(t.environmentId)
          const desired = environmentManifests(t)
          const cm = live.get(`ConfigMap/${ns}/palisade-releases`)
          const data = cm && isRecord(cm['data']) ? cm['data'] : {}
          const cur = typeof data['current'] === 'string' ? data[`r${data['current']}`] : undefined
          if (typeof cur === 'string') desired.push(deploymentManifest(t, JSON.parse(cur) as ReleaseSpec))
          // Services: their Secret is the record (name, kind, password); the rest is put back from it.
          for (const [key, o] of live) {
            if (!key.startsWith(`Secret/${ns}/svc-`)) continue
            const name = o.metadata.labels?.['palisade.dev/service']
            const kind = o.metadata.labels?.['palisade.dev/service-kind']
            const pw = isRecord(o['data']) ? o['data']['password'] : undefined
            if (
              !name ||
              typeof pw !== 'string' ||
              (kind !== 'mariadb' && kind !== 'redis' && kind !== 'postgresql')
            )
              continue
            const password = Buffer.from(pw, 'base64').toString('utf8')
            desired.push(...serviceManifests(t, { name, kind, password }))
          }
          const repaired: string[] = []
          for (const o of desired) {
            const have = live.get(`${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`)
            // List items carry no apiVersion/kind: compare what the object holds.
            const { apiVersion: _a, kind: _k, ...wanted } = o
            const what = !have ? 'missing' : missingFields(wanted, have).length > 0 ? 'changed' : null
            if (!what) continue
            await send(o)
            repaired.push(`${o.kind}/${o.metadata.name}: ${what}`)
          }
          if (repaired.length > 0) reports.push({ environmentId: t.environmentId, repaired })
        }
      }
      await Promise.all(Array.from({ length: 8 }, work))
      return reports
    },

    async managedEnvironmentIds() {
      const list = await kube.list('v1', 'Namespace', undefined, SELECTOR)
      return list.flatMap((n) => {
        const id = n.metadata.labels?.['palisade.dev/environment-id']
        return id ? [id] : []
      })
    },

    async dryRun(t, release) {
      const spec = toSpec(release)
      const objs = environmentManifests(t)
      const [nsObj, ...rest] = objs
      // The namespace must exist for namespaced dry-runs: create it for real, the rest only in dry-run.
      if (nsObj) await send(nsObj)
      for (const o of [
        ...rest,
        deploymentManifest(t, spec),
        ...serviceManifests(t, { name: 'db', kind: 'mariadb', password: 'x'.repeat(16) }),
      ])
        await send(o, true)
    },

    async build(t, b, o = {}) {
      assertTarget(t)
      const ns = namespaceOf(t.environmentId)
      const cm = buildDockerfileManifest(t, b.number, buildDockerfile(b.runtime, b.baseImage))
      const job = buildJobManifest(t, {
        number: b.number,
        repository: b.repository,
        ref: b.ref,
        registry: b.registry,
        dockerfileConfigMap: cm.metadata.name,
      })
      const image = `${b.registry}/${ns}/app:${b.number}`
      // A build Job of the same number left by an interrupted attempt is replaced (its spec is immutable).
      if (await kube.get('batch/v1', 'Job', ns, job.metadata.name)) {
        await kube.remove('batch/v1', 'Job', ns, job.metadata.name)
        await until(`removing the earlier ${job.metadata.name} in ${ns}`, async () =>
          (await kube.get('batch/v1', 'Job', ns, job.metadata.name)) ? undefined : true,
        )
      }
      await send(cm)
      await send(job)
      const state = await until(
        `build ${b.number} in ${ns}`,
        async () => {
          const s = jobState(await kube.get('batch/v1', 'Job', ns, job.metadata.name))
          return s === 'running' ? undefined : s
        },
        o.timeoutMs ?? 1_800_000,
      )
      if (state !== 'succeeded')
        throw new PalisadeError(
          'unavailable',
          KUBE_ERRORS.failed,
          `the in-cluster build ${job.metadata.name} in ${ns} failed (kubectl -n ${ns} logs job/${job.metadata.name})`,
        )
      return image
    },

    async rollbackTo(t, number, o = {}) {
      assertTarget(t)
      const ns = namespaceOf(t.environmentId)
      const { releases } = await readReleases(ns)
      const spec = releases.find((r) => r.number === number)
      if (!spec)
        throw new PalisadeError(
          'conflict',
          KUBE_ERRORS.conflict,
          `release ${number} is no longer kept in ${ns}; deploy again`,
        )
      await rollOut(t, spec, o.timeoutMs ?? opts.timeoutMs)
      await writeReleases(t, releases, number)
    },

    async restart(t, o = {}) {
      assertTarget(t)
      const ns = namespaceOf(t.environmentId)
      const { releases, current } = await readReleases(ns)
      const spec = releases.find((r) => r.number === current)
      if (!spec)
        throw new PalisadeError('conflict', KUBE_ERRORS.conflict, 'a restart needs a deployed release')
      // As `kubectl rollout restart`: a pod-template annotation of its own field manager, so that the
      // Deployment's spec as Palisade applies it stays unchanged (reconcile sees no drift).
      const res = await kube.request(
        'PATCH',
        `/apis/apps/v1/namespaces/${ns}/deployments/web?fieldManager=palisade-restart`,
        {
          spec: {
            template: {
              metadata: { annotations: { 'palisade.dev/restarted-at': new Date().toISOString() } },
            },
          },
        },
        'application/strategic-merge-patch+json',
      )
      if (res.status !== 200) throw errorFromStatus(res, `restarting the app in ${ns}`)
      await until(
        `the restart in ${ns}`,
        async () =>
          rolledOut(await kube.get('apps/v1', 'Deployment', ns, 'web'), t.sizing.instances)
            ? true
            : undefined,
        o.timeoutMs ?? opts.timeoutMs,
      )
    },

    async removeService(environmentId, name, deleteData) {
      assertName('service', name)
      const ns = namespaceOf(environmentId)
      await kube.remove('apps/v1', 'StatefulSet', ns, `svc-${name}`)
      await kube.remove('v1', 'Service', ns, `svc-${name}`)
      if (deleteData) {
        await kube.remove('v1', 'PersistentVolumeClaim', ns, `data-svc-${name}-0`)
        await kube.remove('v1', 'Secret', ns, `svc-${name}`)
      }
    },

    async close() {
      // Nothing is held open beyond keep-alive sockets, which the agent closes when idle.
    },
  }
  return Object.freeze(driver)
}

function jobState(j: KubeObject | undefined): JobState {
  const st = j && isRecord(j['status']) ? j['status'] : {}
  if (typeof st['succeeded'] === 'number' && st['succeeded'] > 0) return 'succeeded'
  const conds = Array.isArray(st['conditions']) ? (st['conditions'] as Array<Record<string, unknown>>) : []
  if (
    (typeof st['failed'] === 'number' && st['failed'] > 0) ||
    conds.some((c) => c['type'] === 'Failed' && c['status'] === 'True')
  )
    return 'failed'
  return 'running'
}

function serviceKindOf(s: KubeObject): ServiceKind {
  const spec = isRecord(s['spec']) ? s['spec'] : {}
  const tpl = isRecord(spec['template']) && isRecord(spec['template']['spec']) ? spec['template']['spec'] : {}
  const c = Array.isArray(tpl['containers']) && isRecord(tpl['containers'][0]) ? tpl['containers'][0] : {}
  const name = c['name']
  return name === 'mariadb' || name === 'postgresql' ? name : 'redis'
}

/** The egress allowance as the cluster holds it (read back, not remembered). */
function egressView(policies: readonly KubeObject[]): EnvironmentEgress {
  const p = policies.find((x) => x.metadata.name === 'allow-app-egress')
  if (!p) return 'none'
  const spec = isRecord(p['spec']) ? p['spec'] : {}
  const rules = Array.isArray(spec['egress']) ? (spec['egress'] as unknown[]) : []
  const to = rules.flatMap((r) =>
    isRecord(r) && Array.isArray(r['to'])
      ? (r['to'] as unknown[]).flatMap((peer) =>
          isRecord(peer) && isRecord(peer['ipBlock']) && typeof peer['ipBlock']['cidr'] === 'string'
            ? [peer['ipBlock']['cidr']]
            : [],
        )
      : [],
  )
  return to.includes('0.0.0.0/0') ? 'public' : { cidrs: to }
}

export { MANAGED_BY, SERVICE_ENGINES }
