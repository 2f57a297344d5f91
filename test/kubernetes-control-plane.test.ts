import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createKubernetesDriver } from '../src/deploy/drivers/kubernetes/kubernetes-driver.js'
import { namespaceOf } from '../src/deploy/drivers/kubernetes/manifests.js'
import { adminClient, testKubeconfig } from '../src/deploy/drivers/kubernetes/testing.js'
import { eventually } from '../src/deploy/testing.js'
import { startKubernetesReconcile } from '../src/main.js'
import { createShopEnvironment, setUpOwner, startPlatform } from './support/platform.js'

/**
 * PALISADE_DRIVER=kubernetes end to end, against the real test API server: environments made through the
 * API reach the cluster, a control-plane (re)start reconciles what drifted and the audit log says so, and
 * deleting an environment removes its namespace.
 */
test('a control-plane start under the kubernetes driver reconciles drift, audits it, and deletion removes the namespace', async (t) => {
  const kubeconfig = await testKubeconfig()
  const admin = await adminClient()
  const tp = await startPlatform(t, 'sqlite', { driver: 'kubernetes', kubeconfig })
  const k = tp.platform.kubernetes
  assert.ok(k, 'the kubernetes control is wired')
  const { token, workspaceId } = await setUpOwner(tp)
  const envId = await createShopEnvironment(tp, token, workspaceId, { name: 'stage', healthCheckPath: '/up' })
  const put = await tp.call('PUT', `/v1/environments/${envId}/variables/API_KEY`, {
    token,
    body: { value: 'sk-live-1', secret: true },
  })
  assert.ok(put.statusCode < 300, put.body)
  const ns = namespaceOf(envId)
  t.after(() =>
    createKubernetesDriver({ client: admin })
      .removeEnvironment(envId)
      .catch(() => undefined),
  )

  // First start: the environment is put in the cluster.
  const stop1 = await startKubernetesReconcile(tp.platform)
  stop1()
  const nsObj = await eventually(() => admin.get('v1', 'Namespace', undefined, ns), 30_000, 'the namespace')
  assert.equal(nsObj.metadata.labels?.['palisade.dev/workspace'], 'acme')
  assert.equal(nsObj.metadata.labels?.['palisade.dev/environment'], 'stage')
  const secret = await admin.get('v1', 'Secret', ns, 'app-secrets')
  assert.equal(
    Buffer.from(String((secret?.['data'] as Record<string, string>)['API_KEY']), 'base64').toString(),
    'sk-live-1',
  )
  assert.deepEqual(await k.reconcileAll(), [], 'an unchanged environment needs nothing')

  // Drift while the control plane is down: a policy opened by hand, the app Service deleted.
  await admin.request(
    'PATCH',
    `/apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies/allow-edge-to-app`,
    { spec: { ingress: [{ from: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }] } },
    'application/merge-patch+json',
  )
  await admin.remove('v1', 'Service', ns, 'web')
  const stop2 = await startKubernetesReconcile(tp.platform)
  stop2()
  assert.ok(await admin.get('v1', 'Service', ns, 'web'), 'the Service is back')
  const events = await tp.call(
    'GET',
    `/v1/workspaces/${workspaceId}/audit-events?action=environment.kubernetes.reconcile`,
    { token },
  )
  assert.equal(events.statusCode, 200)
  const items = (
    events.json() as { items: Array<{ environment: string; actor: { type: string }; changes: unknown }> }
  ).items
  const repaired = items.flatMap((e) => JSON.stringify(e.changes))
  assert.ok(items.every((e) => e.actor.type === 'platform'))
  assert.ok(
    repaired.some(
      (c) => c.includes('NetworkPolicy/allow-edge-to-app: changed') && c.includes('Service/web: missing'),
    ),
    repaired.join('\n'),
  )

  // Deleting the environment removes its namespace (the controller-manager finishes the deletion).
  assert.equal((await tp.call('DELETE', `/v1/environments/${envId}`, { token })).statusCode, 204)
  await eventually(
    async () => ((await admin.get('v1', 'Namespace', undefined, ns)) ? undefined : true),
    90_000,
    'the namespace to go',
  )
})
