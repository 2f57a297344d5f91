import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { isRecord, type KubeObject } from '../src/deploy/drivers/kubernetes/kube-client.js'
import { namespaceOf } from '../src/deploy/drivers/kubernetes/manifests.js'
import {
  adminClient,
  startSimulatedKubelet,
  testKubeconfig,
} from '../src/deploy/drivers/kubernetes/testing.js'
import { eventually } from '../src/deploy/testing.js'
import { freePort, removeAfterServers, startServer } from './support/processes.js'

/**
 * PALISADE_DRIVER=kubernetes end to end: a real `palisade serve` process against the real test API server
 * and controller-manager, driven only through the HTTP API. The simulated kubelet is the only simulated
 * part: it binds pods, marks app pods Ready and jobs finished, and marks the kaniko build pod Succeeded
 * without running it (no image is built or pushed here).
 */

const REGISTRY = 'registry.example.test'
const OWNER = { email: 'owner@example.com', password: 'correct horse battery staple 42' }

interface Api {
  call(method: string, url: string, body?: unknown): Promise<{ status: number; json: unknown; text: string }>
}

function apiAt(base: string, token?: string): Api {
  return {
    async call(method, url, body) {
      const headers: Record<string, string> = {}
      if (token) headers['authorization'] = `Bearer ${token}`
      if (body !== undefined) headers['content-type'] = 'application/json'
      const res = await fetch(base + url, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
      const text = await res.text()
      let json: unknown = null
      try {
        json = JSON.parse(text)
      } catch {
        // not JSON (204)
      }
      return { status: res.status, json, text }
    },
  }
}

const field = (o: unknown, ...keys: Array<string | number>): unknown => {
  let v: unknown = o
  for (const k of keys) {
    if (typeof k === 'number') v = Array.isArray(v) ? v[k] : undefined
    else v = isRecord(v) ? v[k] : undefined
  }
  return v
}

const container = (d: KubeObject | undefined): unknown =>
  field(d, 'spec', 'template', 'spec', 'containers', 0)

test('palisade serve under the kubernetes driver deploys, rolls back, runs jobs, provisions a service and deletes an environment in the cluster', async (t) => {
  const kubeconfig = await testKubeconfig()
  const admin = await adminClient()
  const kubelet = await startSimulatedKubelet(admin, 100, { builds: 'succeed' })
  t.after(() => kubelet.stop())
  const dir = mkdtempSync(path.join(tmpdir(), 'palisade-kube-e2e-'))
  removeAfterServers(t, dir)
  const dataDir = path.join(dir, 'data')
  // The edge runs in worker processes under the supervisor: its port is chosen here, then polled.
  const edgePort = await freePort()
  const server = await startServer(t, {
    PALISADE_DATA_DIR: dataDir,
    PALISADE_EDGE_HTTP_LISTEN: `127.0.0.1:${edgePort}`,
    PALISADE_EDGE_HTTPS_LISTEN: '127.0.0.1:0',
    PALISADE_DRIVER: 'kubernetes',
    KUBECONFIG: kubeconfig,
    PALISADE_K8S_REGISTRY: REGISTRY,
    // Standard runtimes run the catalog's image of the pinned version: pinning resolves it (no download).
    PALISADE_RUNTIME_PINNING: 'on',
  })
  const edgeStatus = (host: string): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: edgePort, path: '/', headers: { host } }, (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
      })
      req.on('error', reject)
      req.end()
    })

  const anon = apiAt(server.apiUrl)
  const setupToken = readFileSync(path.join(dataDir, 'setup-token'), 'utf8').trim()
  const setup = await anon.call('POST', '/v1/setup', { token: setupToken, ...OWNER, workspace: 'acme' })
  assert.equal(setup.status, 201, setup.text)
  const workspaceId = field(setup.json, 'workspace', 'id') as string
  const session = await anon.call('POST', '/v1/sessions', OWNER)
  assert.equal(session.status, 201, session.text)
  const api = apiAt(server.apiUrl, field(session.json, 'token') as string)

  const project = await api.call('POST', `/v1/workspaces/${workspaceId}/projects`, {
    name: 'shop',
    repository: 'https://git.example.test/acme/shop.git',
  })
  assert.equal(project.status, 201, project.text)
  const projectId = field(project.json, 'id') as string
  const created = await api.call('POST', `/v1/projects/${projectId}/environments`, {
    name: 'stage',
    runtime: 'node@20',
    healthCheckPath: '/up',
  })
  assert.equal(created.status, 201, created.text)
  const envId = field(created.json, 'id') as string
  const ns = namespaceOf(envId)
  const host = 'stage.shop.acme.localhost'
  // The workers serve once the control plane has programmed them (health says `degraded` until then).
  await eventually(
    () =>
      edgeStatus(host)
        .then((s) => (s === 404 ? true : undefined))
        .catch(() => undefined),
    60_000,
    'the edge workers',
  )
  t.after(async () => {
    await admin.remove('v1', 'Namespace', undefined, ns).catch(() => undefined)
  })

  const waitDeployment = async (id: string): Promise<Record<string, unknown>> =>
    eventually(
      async () => {
        const r = await api.call('GET', `/v1/deployments/${id}`)
        const status = field(r.json, 'status')
        return status === 'succeeded' || status === 'failed' ? (r.json as Record<string, unknown>) : undefined
      },
      120_000,
      `deployment ${id} to finish`,
    )
  const deploy = async (): Promise<Record<string, unknown>> => {
    const r = await api.call('POST', `/v1/environments/${envId}/deployments`, {})
    assert.equal(r.status, 201, r.text)
    const done = await waitDeployment(field(r.json, 'id') as string)
    const logs = await api.call('GET', `/v1/deployments/${String(done['id'])}/logs`)
    assert.equal(done['status'], 'succeeded', `${String(done['reason'])}\n${logs.text}`)
    return done
  }

  // A deployment from git: an in-cluster kaniko build on the catalog's image of the pinned version, pushed
  // to the registry; the release is the Deployment's revision, switched once its pods are ready.
  const first = await deploy()
  assert.match(String(first['runtimeVersion']), /^20\.[0-9]+\.[0-9]+$/)
  const build = await admin.get('batch/v1', 'Job', ns, 'build-1')
  const kaniko = field(build, 'spec', 'template', 'spec', 'containers', 0) as Record<string, unknown>
  assert.match(String(kaniko['image']), /kaniko-project\/executor/)
  const args = kaniko['args'] as string[]
  assert.ok(args.includes('--context=git://git.example.test/acme/shop.git#refs/heads/main'), args.join(' '))
  assert.ok(args.includes(`--destination=${REGISTRY}/${ns}/app:1`), args.join(' '))
  assert.ok(args.includes('--dockerfile=/palisade/Dockerfile'))
  const dockerfile = field(await admin.get('v1', 'ConfigMap', ns, 'build-1'), 'data', 'Dockerfile')
  assert.match(
    String(dockerfile),
    new RegExp(
      `^FROM docker\\.io/library/node:${String(first['runtimeVersion']).replace(/\./g, '\\.')}-bookworm-slim\\n`,
    ),
  )
  let web = await admin.get('apps/v1', 'Deployment', ns, 'web')
  assert.equal(field(container(web), 'image'), `${REGISTRY}/${ns}/app:1`)
  assert.equal(web?.metadata.annotations?.['palisade.dev/release'], '1')
  assert.equal(field(web, 'status', 'readyReplicas'), 1)
  // The edge now proxies to the app's cluster Service. That name resolves only inside a cluster (there is no
  // cluster DNS here), so the edge answers 502 where it had no route (404) before.
  assert.equal(await edgeStatus(host), 502)

  // A second release is a new revision; a rollback re-applies release 1's spec (no rebuild: no build-3 Job).
  await deploy()
  web = await admin.get('apps/v1', 'Deployment', ns, 'web')
  assert.equal(field(container(web), 'image'), `${REGISTRY}/${ns}/app:2`)
  assert.equal(web?.metadata.annotations?.['deployment.kubernetes.io/revision'], '2')
  const rb = await api.call('POST', `/v1/environments/${envId}/rollback`, {})
  assert.equal(rb.status, 201, rb.text)
  const rolledBack = await waitDeployment(field(rb.json, 'id') as string)
  assert.equal(rolledBack['status'], 'succeeded', String(rolledBack['reason']))
  assert.equal(rolledBack['release'], 1)
  web = await admin.get('apps/v1', 'Deployment', ns, 'web')
  assert.equal(field(container(web), 'image'), `${REGISTRY}/${ns}/app:1`)
  assert.equal(web?.metadata.annotations?.['palisade.dev/release'], '1')
  assert.equal(await admin.get('batch/v1', 'Job', ns, 'build-3'), undefined)
  assert.equal(field(web, 'status', 'readyReplicas'), 1)

  // Jobs: a command runs as a Kubernetes Job of the current release's image; a restart rolls new pods.
  const job = await api.call('POST', `/v1/environments/${envId}/jobs`, {
    type: 'command',
    command: 'echo hi',
  })
  assert.equal(job.status, 202, job.text)
  const jobDone = await eventually(
    async () => {
      const r = await api.call('GET', `/v1/jobs/${String(field(job.json, 'id'))}`)
      const s = field(r.json, 'status')
      return s === 'succeeded' || s === 'failed' ? r.json : undefined
    },
    60_000,
    'the job',
  )
  assert.equal(field(jobDone, 'status'), 'succeeded', JSON.stringify(jobDone))
  const kubeJobs = await admin.list('batch/v1', 'Job', ns, 'palisade.dev/role=job')
  assert.equal(kubeJobs.length, 1)
  assert.deepEqual(field(container(kubeJobs[0]), 'command'), ['/bin/sh', '-c', 'echo hi'])
  assert.equal(field(container(kubeJobs[0]), 'image'), `${REGISTRY}/${ns}/app:1`)
  const restart = await api.call('POST', `/v1/environments/${envId}/jobs`, { type: 'restart' })
  assert.equal(restart.status, 202, restart.text)
  await eventually(
    async () => {
      const r = await api.call('GET', `/v1/jobs/${String(field(restart.json, 'id'))}`)
      return field(r.json, 'status') === 'succeeded' ? true : undefined
    },
    60_000,
    'the restart',
  )
  web = await admin.get('apps/v1', 'Deployment', ns, 'web')
  assert.ok(field(web, 'spec', 'template', 'metadata', 'annotations', 'palisade.dev/restarted-at'))
  assert.equal(field(container(web), 'image'), `${REGISTRY}/${ns}/app:1`, 'a restart keeps the release')

  // A service is a StatefulSet with its claim and Secret; its URL points at the cluster Service name.
  const svc = await api.call('POST', `/v1/environments/${envId}/services`, { type: 'postgresql' })
  assert.equal(svc.status, 201, svc.text)
  const svcId = field(svc.json, 'id') as string
  const running = await eventually(
    async () => {
      const r = await api.call('GET', `/v1/services/${svcId}`)
      const s = field(r.json, 'status')
      return s === 'running' || s === 'failed' ? r.json : undefined
    },
    120_000,
    'the service',
  )
  assert.equal(field(running, 'status'), 'running', JSON.stringify(running))
  const sts = await admin.get('apps/v1', 'StatefulSet', ns, 'svc-postgresql')
  assert.match(String(field(container(sts), 'image')), /postgres:/)
  assert.equal(field(sts, 'spec', 'volumeClaimTemplates', 0, 'metadata', 'name'), 'data')
  const appSecrets = await admin.get('v1', 'Secret', ns, 'app-secrets')
  const dbUrl = Buffer.from(String(field(appSecrets, 'data', 'DATABASE_URL')), 'base64').toString()
  assert.match(
    dbUrl,
    new RegExp(`^postgresql://app:[A-Za-z0-9]+@svc-postgresql\\.${ns}\\.svc\\.cluster\\.local:5432/app$`),
  )
  const svcSecret = await admin.get('v1', 'Secret', ns, 'svc-postgresql')
  const password = Buffer.from(String(field(svcSecret, 'data', 'password')), 'base64').toString()
  assert.ok(dbUrl.includes(`:${password}@`), 'the app gets the password the StatefulSet was given')

  // A custom-image runtime runs the customer's image as it is: no build Job.
  const custom = await api.call('POST', `/v1/projects/${projectId}/environments`, {
    name: 'api',
    runtime: 'custom:registry.example.test/acme/api:1.2.3',
    healthCheckPath: '/up',
  })
  assert.equal(custom.status, 201, custom.text)
  const customId = field(custom.json, 'id') as string
  const customNs = namespaceOf(customId)
  t.after(async () => {
    await admin.remove('v1', 'Namespace', undefined, customNs).catch(() => undefined)
  })
  const cd = await api.call('POST', `/v1/environments/${customId}/deployments`, {})
  assert.equal(cd.status, 201, cd.text)
  const customDone = await waitDeployment(field(cd.json, 'id') as string)
  assert.equal(customDone['status'], 'succeeded', String(customDone['reason']))
  const customWeb = await admin.get('apps/v1', 'Deployment', customNs, 'web')
  assert.equal(field(container(customWeb), 'image'), 'registry.example.test/acme/api:1.2.3')
  assert.deepEqual(await admin.list('batch/v1', 'Job', customNs, 'palisade.dev/role=build'), [])

  // What the cluster cannot run is refused by Palisade with its own 4xx before anything is sent: an image
  // reference the cluster would reject (upper case host) gets a 400 naming the field, and no namespace.
  const bad = await api.call('POST', `/v1/projects/${projectId}/environments`, {
    name: 'bad',
    runtime: 'custom:Registry.Example/UPPER:1',
  })
  assert.equal(bad.status, 201, bad.text)
  const badId = field(bad.json, 'id') as string
  t.after(async () => {
    await admin.remove('v1', 'Namespace', undefined, namespaceOf(badId)).catch(() => undefined)
  })
  const refused = await api.call('POST', `/v1/environments/${badId}/deployments`, {})
  assert.equal(refused.status, 400, refused.text)
  assert.equal(field(refused.json, 'error', 'details', 0, 'field'), 'runtime')
  assert.equal(await admin.get('apps/v1', 'Deployment', namespaceOf(badId), 'web'), undefined)

  // Deleting the environment removes its namespace (the controller-manager finishes the deletion).
  // It holds a service: deleting it needs force, as under the local driver.
  assert.equal((await api.call('DELETE', `/v1/environments/${envId}`)).status, 409)
  const del = await api.call('DELETE', `/v1/environments/${envId}?force=true`)
  assert.equal(del.status, 204, del.text)
  await eventually(
    async () => ((await admin.get('v1', 'Namespace', undefined, ns)) ? undefined : true),
    120_000,
    'the namespace to go',
  )
  assert.equal((await api.call('GET', `/v1/environments/${envId}`)).status, 404)
})
