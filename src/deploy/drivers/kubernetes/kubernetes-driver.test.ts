import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { parseAllDocuments } from 'yaml'
import { PalisadeError } from '../../../shared/errors.js'
import type { EnvironmentTarget } from '../environment-driver.js'
import {
  createKubeClient,
  credentialsFromKubeconfig,
  isRecord,
  type KubeClient,
  type KubeObject,
} from './kube-client.js'
import { KUBE_ERRORS } from './kube-errors.js'
import { createKubernetesDriver } from './kubernetes-driver.js'
import {
  buildJobManifest,
  deploymentManifest,
  environmentManifests,
  namespaceOf,
  networkPolicies,
  validateManifest,
} from './manifests.js'
import { assertReadBack } from './readback.js'
import { adminClient, startSimulatedKubelet, testKubeconfig } from './testing.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..')

const target = (over: Partial<EnvironmentTarget> = {}): EnvironmentTarget => ({
  environmentId: `env_${Math.random().toString(36).slice(2, 12)}`,
  workspace: 'acme',
  project: 'shop',
  environment: 'prod',
  sizing: { instances: 1, memoryMb: 512, cpu: 1 },
  healthCheckPath: '/health',
  persistentDirs: ['uploads'],
  variables: { MODE: 'prod' },
  secrets: { TOKEN: 'x' },
  egress: 'public',
  ipAllow: ['198.51.100.0/24'],
  ...over,
})

const isKubeError = (code: string) => (err: unknown) => err instanceof PalisadeError && err.code === code

async function setUp(t: { after(fn: () => Promise<void> | void): void }) {
  const client = await adminClient()
  const kubelet = await startSimulatedKubelet(client, 100)
  const driver = createKubernetesDriver({ client, timeoutMs: 90_000, pollMs: 100 })
  const tg = target()
  t.after(async () => {
    await driver.removeEnvironment(tg.environmentId).catch(() => undefined)
    await kubelet.stop()
  })
  return { client, driver, tg }
}

describe('kubernetes driver against the real API server', () => {
  test('every NetworkPolicy read back has the peers that were sent', async (t) => {
    const { client, driver, tg } = await setUp(t)
    await driver.applyEnvironment(tg)
    const sent = networkPolicies(tg)
    const live = await client.list('networking.k8s.io/v1', 'NetworkPolicy', namespaceOf(tg.environmentId))
    assert.equal(live.length, sent.length)
    let rulesChecked = 0
    for (const s of sent) {
      const l = live.find((x) => x.metadata.name === s.metadata.name)
      assert.ok(l, `${s.metadata.name} exists`)
      const spec = s['spec'] as Record<string, unknown>
      for (const [dir, peers] of [
        ['ingress', 'from'],
        ['egress', 'to'],
      ] as const) {
        const rules = (spec[dir] ?? []) as Array<Record<string, unknown>>
        const liveRules = ((l['spec'] as Record<string, unknown>)[dir] ?? []) as Array<
          Record<string, unknown>
        >
        rules.forEach((r, i) => {
          const got = liveRules[i]?.[peers]
          assert.ok(
            Array.isArray(got) && got.length > 0,
            `${s.metadata.name} ${dir}[${i}].${peers} is not empty`,
          )
          assert.deepEqual(got, r[peers])
          rulesChecked++
        })
      }
    }
    assert.ok(rulesChecked >= 5)
  })

  test('a policy whose peers were renamed (client-node `_from`) is refused by apply, and caught on read-back when created', async (t) => {
    const { client, driver, tg } = await setUp(t)
    await driver.applyEnvironment(tg)
    const ns = namespaceOf(tg.environmentId)
    const good = networkPolicies(tg).find((p) => p.metadata.name === 'allow-edge-to-app')
    assert.ok(good)
    const spec = good['spec'] as { ingress: Array<Record<string, unknown>> }
    const renamed: KubeObject = {
      ...good,
      metadata: { ...good.metadata, name: 'renamed-peers' },
      spec: { ...spec, ingress: spec.ingress.map(({ from, ...r }) => ({ ...r, _from: from })) },
    }
    // Server-side apply (the driver's only write) refuses the unknown field with a clear Palisade error.
    await assert.rejects(client.apply(renamed), isKubeError(KUBE_ERRORS.rejected))
    // A plain create (what a typed-model client sends) is stored without the peers: the rule allows all.
    const res = await client.request(
      'POST',
      `/apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies`,
      renamed,
    )
    assert.equal(res.status, 201)
    const live = res.body as KubeObject
    const liveIngress = (live['spec'] as { ingress: Array<Record<string, unknown>> }).ingress
    assert.equal(liveIngress[0]?.['from'], undefined, 'the API server dropped the renamed field silently')
    assert.throws(
      () => assertReadBack({ ...good, metadata: renamed.metadata }, live),
      isKubeError(KUBE_ERRORS.readbackMismatch),
    )
  })

  test('an unknown field is dropped silently by a plain create and fails the read-back; a wrong type fails validation before sending', async (t) => {
    const { client, driver, tg } = await setUp(t)
    await driver.applyEnvironment(tg)
    const ns = namespaceOf(tg.environmentId)
    const cm: KubeObject = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'typo', namespace: ns },
      dataa: { A: '1' },
    }
    validateManifest(cm) // the schema does not forbid extra fields…
    const res = await client.request('POST', `/api/v1/namespaces/${ns}/configmaps?dryRun=All`, cm)
    assert.equal(res.status, 201)
    assert.throws(() => assertReadBack(cm, res.body as KubeObject), /dataa/) // …the read-back does
    await assert.rejects(client.apply(cm), isKubeError(KUBE_ERRORS.rejected))
    const d = deploymentManifest(tg, {
      number: 1,
      image: 'registry.example.test/a/b:1',
      argv: [],
      readOnlyRoot: true,
    })
    const wrongType: KubeObject = { ...d, spec: { ...(d['spec'] as object), replicas: 'three' } }
    assert.throws(() => validateManifest(wrongType), isKubeError(KUBE_ERRORS.manifestInvalid))
  })

  test('every object is applied under the field manager palisade (server-side apply), never another', async (t) => {
    const { client, driver, tg } = await setUp(t)
    await driver.applyEnvironment(tg)
    await driver.deploy(tg, { number: 1, image: 'registry.example.test/a/b:1', argv: [] })
    const objs = [
      ...environmentManifests(tg),
      deploymentManifest(tg, { number: 1, image: 'x.test/a:1', argv: [], readOnlyRoot: true }),
    ]
    for (const o of objs) {
      const live = await client.get(o.apiVersion, o.kind, o.metadata.namespace, o.metadata.name)
      const managed = (live?.metadata['managedFields'] ?? []) as Array<{ manager: string; operation: string }>
      const appliers = managed.filter((m) => m.operation === 'Apply').map((m) => m.manager)
      assert.deepEqual(appliers, ['palisade'], `${o.kind}/${o.metadata.name}`)
    }
  })

  test('re-applying an unchanged environment and release changes nothing (same resourceVersion)', async (t) => {
    const { client, driver, tg } = await setUp(t)
    await driver.applyEnvironment(tg)
    await driver.deploy(tg, { number: 1, image: 'registry.example.test/a/b:1', argv: [] })
    const ns = namespaceOf(tg.environmentId)
    const versions = async () => {
      const out: Record<string, string | undefined> = {}
      for (const o of [
        ...environmentManifests(tg),
        deploymentManifest(tg, { number: 1, image: 'x.test/a:1', argv: [], readOnlyRoot: true }),
      ]) {
        const live = await client.get(o.apiVersion, o.kind, o.metadata.namespace, o.metadata.name)
        out[`${o.kind}/${o.metadata.name}`] = live?.metadata.resourceVersion
      }
      const cm = await client.get('v1', 'ConfigMap', ns, 'palisade-releases')
      out['releases'] = cm?.metadata.resourceVersion
      return out
    }
    // A PVC without a provisioner gets status updates from the PV controller: wait until it settles.
    await new Promise((r) => setTimeout(r, 2_000))
    const before = await versions()
    await driver.applyEnvironment(tg)
    await driver.deploy(tg, { number: 1, image: 'registry.example.test/a/b:1', argv: [] })
    assert.deepEqual(await versions(), before)
  })

  test('invalid names, sizes, CIDRs and images are refused by Palisade before anything reaches the cluster', async () => {
    // A client whose every call would fail as unreachable: an InvalidError proves nothing was sent.
    const nowhere = createKubeClient({ server: 'https://127.0.0.1:9', token: 't' })
    const driver = createKubernetesDriver({ client: nowhere, timeoutMs: 1_000 })
    const cases: Array<[string, Partial<EnvironmentTarget>]> = [
      ['workspace', { workspace: 'Acme_Corp' }],
      ['environment', { environment: 'x'.repeat(64) }],
      ['sizing.memoryMb', { sizing: { instances: 1, memoryMb: 10, cpu: 1 } }],
      ['sizing.cpu', { sizing: { instances: 1, memoryMb: 512, cpu: 64 } }],
      ['sizing.instances', { sizing: { instances: 1.5, memoryMb: 512, cpu: 1 } }],
      ['ipAllow[0]', { ipAllow: ['10.0.0.0/33'] }],
      ['ipAllow[0]', { ipAllow: ['not-a-cidr'] }],
      ['egress[0]', { egress: { cidrs: ['300.1.1.1/32'] } }],
      ['persistentDirs[0]', { persistentDirs: ['../etc'] }],
    ]
    for (const [field, over] of cases) {
      await assert.rejects(driver.applyEnvironment(target(over)), (err: unknown) => {
        assert.ok(err instanceof PalisadeError && err.kind === 'invalid', `${field}: ${String(err)}`)
        assert.equal(err.code, KUBE_ERRORS.invalid)
        assert.equal(err.details?.[0]?.field, field)
        return true
      })
    }
    for (const image of ['Registry/UPPER:1', 'x.test/a:1; rm -rf /', '--help', 'x.test/a:1 --privileged']) {
      await assert.rejects(
        driver.deploy(target(), { number: 1, image, argv: [] }),
        (err: unknown) =>
          err instanceof PalisadeError && err.kind === 'invalid' && err.details?.[0]?.field === 'image',
      )
    }
  })

  test("the API server's own 422 (a label over 63 characters) comes back as a clear Palisade error", async () => {
    const client = await adminClient()
    await assert.rejects(
      client.apply({
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: 'pal-label-too-long', labels: { 'palisade.dev/workspace': 'w'.repeat(64) } },
      }),
      (err: unknown) => {
        assert.ok(err instanceof PalisadeError)
        assert.equal(err.kind, 'unprocessable')
        assert.equal(err.code, KUBE_ERRORS.rejected)
        assert.match(err.message, /must be no more than 63 characters/)
        return true
      },
    )
  })

  test('a control-plane restart reconciles a Deployment deleted by hand and a NetworkPolicy edited by hand', async (t) => {
    const { client, driver, tg } = await setUp(t)
    await driver.applyEnvironment(tg)
    await driver.deploy(tg, { number: 3, image: 'registry.example.test/a/b:3', argv: [] })
    await driver.provisionService(tg, { name: 'db', kind: 'mariadb' })
    const ns = namespaceOf(tg.environmentId)
    assert.deepEqual(await driver.reconcile([tg]), [], 'nothing drifted yet')
    await client.remove('apps/v1', 'Deployment', ns, 'web')
    await client.remove('apps/v1', 'StatefulSet', ns, 'svc-db')
    const pol = await client.get('networking.k8s.io/v1', 'NetworkPolicy', ns, 'allow-edge-to-app')
    assert.ok(pol)
    await client.request(
      'PATCH',
      `/apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies/allow-edge-to-app`,
      { spec: { ingress: [{ from: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }] } },
      'application/merge-patch+json',
    )
    const reports = await driver.reconcile([tg])
    assert.deepEqual(reports, [
      {
        environmentId: tg.environmentId,
        repaired: [
          'NetworkPolicy/allow-edge-to-app: changed',
          'Deployment/web: missing',
          'StatefulSet/svc-db: missing',
        ],
      },
    ])
    const back = await client.get('networking.k8s.io/v1', 'NetworkPolicy', ns, 'allow-edge-to-app')
    const sent = networkPolicies(tg).find((p) => p.metadata.name === 'allow-edge-to-app')
    assert.deepEqual(
      (back?.['spec'] as Record<string, unknown>)['ingress'],
      (sent?.['spec'] as Record<string, unknown>)['ingress'],
    )
    const d = await client.get('apps/v1', 'Deployment', ns, 'web')
    assert.equal(d?.metadata.annotations?.['palisade.dev/release'], '3')
    assert.ok(await client.get('apps/v1', 'StatefulSet', ns, 'svc-db'), 'the service is back')
  })

  test('deleting an environment removes its namespace completely', async (t) => {
    const { client, driver, tg } = await setUp(t)
    await driver.applyEnvironment(tg)
    await driver.deploy(tg, { number: 1, image: 'registry.example.test/a/b:1', argv: [] })
    await driver.provisionService(tg, { name: 'db', kind: 'postgresql' })
    await driver.removeEnvironment(tg.environmentId)
    assert.equal(await client.get('v1', 'Namespace', undefined, namespaceOf(tg.environmentId)), undefined)
    assert.deepEqual(await client.list('apps/v1', 'Deployment', namespaceOf(tg.environmentId)), [])
  })

  test('a release that never becomes ready fails the deployment and leaves the old release serving', async (t) => {
    const { driver, tg } = await setUp(t)
    await driver.applyEnvironment(tg)
    await driver.deploy(tg, { number: 1, image: 'registry.example.test/a/b:1', argv: [] })
    await assert.rejects(
      driver.deploy(
        tg,
        { number: 2, image: 'registry.example.test/a/unready:2', argv: [] },
        { timeoutMs: 3_000 },
      ),
      isKubeError(KUBE_ERRORS.timeout),
    )
    const s = await driver.status(tg.environmentId)
    assert.equal(s.readyInstances, 1)
    assert.deepEqual(s.releases, [1])
  })

  test('a failing job is reported failed', async (t) => {
    const { driver, tg } = await setUp(t)
    await driver.applyEnvironment(tg)
    await driver.deploy(tg, { number: 1, image: 'registry.example.test/a/b:1', argv: [] })
    assert.equal(await driver.runJob(tg, { name: 'bad', argv: ['false'], timeoutMs: 20_000 }), 'failed')
  })

  test('the in-cluster build Job (kaniko) is accepted and stored as sent', async (t) => {
    const { client, driver, tg } = await setUp(t)
    await driver.applyEnvironment(tg)
    const job = buildJobManifest(tg, {
      number: 7,
      repository: 'https://git.example.test/acme/shop.git',
      ref: 'main',
      registry: 'registry.example.test',
    })
    validateManifest(job)
    const live = await client.apply(job)
    assertReadBack(job, live)
    assert.throws(
      () => buildJobManifest(tg, { number: 7, repository: 'ext::sh -c id', ref: 'main', registry: 'r.test' }),
      (err: unknown) => err instanceof PalisadeError && err.details?.[0]?.field === 'repository',
    )
  })
})

describe('deploy/kubernetes/rbac.yaml', () => {
  test('the driver works with exactly the shipped role, and a call outside it is refused (403)', async (t) => {
    const admin = await adminClient()
    const docs = parseAllDocuments(readFileSync(path.join(ROOT, 'deploy/kubernetes/rbac.yaml'), 'utf8')).map(
      (d) => d.toJSON() as KubeObject,
    )
    assert.ok(docs.length >= 4)
    for (const d of docs) await admin.apply(d)
    // A real bound token for the ServiceAccount (TokenRequest), as a pod would get it in-cluster.
    const tr = await admin.create('/api/v1/namespaces/palisade-system/serviceaccounts/palisade/token', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { expirationSeconds: 3600 },
    })
    const token = isRecord(tr) && isRecord(tr['status']) ? tr['status']['token'] : undefined
    assert.equal(typeof token, 'string')
    const adminCreds = credentialsFromKubeconfig(await testKubeconfig())
    const sa: KubeClient = createKubeClient({
      server: adminCreds.server,
      ca: adminCreds.ca,
      token: String(token),
    })
    const kubelet = await startSimulatedKubelet(admin, 100)
    t.after(() => kubelet.stop())
    const driver = createKubernetesDriver({ client: sa, timeoutMs: 90_000, pollMs: 100 })
    const tg = target()
    t.after(() => driver.removeEnvironment(tg.environmentId).catch(() => undefined))
    await driver.applyEnvironment(tg)
    await driver.deploy(tg, { number: 1, image: 'registry.example.test/a/b:1', argv: [] })
    await driver.provisionService(tg, { name: 'cache', kind: 'redis' })
    assert.equal((await driver.status(tg.environmentId)).currentRelease, 1)
    assert.deepEqual(await driver.reconcile([tg]), [])
    await driver.removeEnvironment(tg.environmentId)
    // Outside the role: nodes, and RBAC itself (no privilege escalation through the control plane).
    await assert.rejects(
      sa.get('v1', 'Node', undefined, 'palisade-sim-node'),
      isKubeError(KUBE_ERRORS.forbidden),
    )
    await assert.rejects(
      sa.apply({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: 'escalate' },
      }),
      isKubeError(KUBE_ERRORS.forbidden),
    )
    const res = await sa.request('GET', '/api/v1/nodes')
    assert.equal(res.status, 403)
  })
})

describe('kubeconfig', () => {
  test('insecure-skip-tls-verify and plain http are refused', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pal-kc-'))
    const write = (cluster: string) => {
      const f = path.join(dir, `kc-${Math.random()}`)
      writeFileSync(
        f,
        `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {${cluster}}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n`,
      )
      return f
    }
    assert.throws(
      () => credentialsFromKubeconfig(write('server: "https://k.test", insecure-skip-tls-verify: true')),
      isKubeError(KUBE_ERRORS.credentials),
    )
    assert.throws(
      () => credentialsFromKubeconfig(write('server: "http://k.test"')),
      isKubeError(KUBE_ERRORS.credentials),
    )
    assert.equal(credentialsFromKubeconfig(write('server: "https://k.test/"')).server, 'https://k.test')
  })
})
