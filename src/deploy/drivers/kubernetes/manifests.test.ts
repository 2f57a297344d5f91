import assert from 'node:assert/strict'
import { test } from 'node:test'
import { PalisadeError } from '../../../shared/errors.js'
import { DEPLOY_ERRORS } from '../../errors.js'
import type { EnvironmentTarget } from '../environment-driver.js'
import { KUBE_ERRORS } from './kube-errors.js'
import {
  buildDockerfile,
  buildDockerfileManifest,
  buildJobManifest,
  cpuQuantity,
  deploymentManifest,
  environmentManifests,
  memoryQuantity,
  namespaceOf,
  resourcesFor,
  runtimeImage,
  serviceManifests,
  validateManifest,
} from './manifests.js'
import { missingFields } from './readback.js'

const isInvalid = (field: string) => (err: unknown) =>
  err instanceof PalisadeError && err.code === KUBE_ERRORS.invalid && err.details?.[0]?.field === field

const t: EnvironmentTarget = {
  environmentId: 'env_abc123',
  workspace: 'acme',
  project: 'shop',
  environment: 'prod',
  sizing: { instances: 3, memoryMb: 1024, cpu: 1.5 },
  healthCheckPath: '/healthz',
  persistentDirs: ['uploads', 'var/cache'],
  variables: { A: '1' },
  secrets: { B: '2' },
  egress: 'none',
  ipAllow: [],
}

test('the Deployment rolls with maxUnavailable 0, probes from the health check, sizing, non-root and no token', () => {
  const d = deploymentManifest(t, {
    number: 4,
    image: 'registry.example.test/a/b:4',
    argv: [],
    readOnlyRoot: true,
  })
  validateManifest(d)
  const spec = d['spec'] as Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
  assert.equal(spec['replicas'], 3)
  assert.deepEqual(spec['strategy'], {
    type: 'RollingUpdate',
    rollingUpdate: { maxUnavailable: 0, maxSurge: 1 },
  })
  const pod = spec['template'].spec
  assert.equal(pod.automountServiceAccountToken, false)
  assert.equal(pod.securityContext.runAsNonRoot, true)
  const c = pod.containers[0]
  assert.equal(c.readinessProbe.httpGet.path, '/healthz')
  assert.equal(c.livenessProbe.httpGet.path, '/healthz')
  assert.deepEqual(c.resources, {
    requests: { cpu: '750m', memory: '512Mi' },
    limits: { cpu: '1500m', memory: '1Gi' },
  })
  assert.equal(c.securityContext.readOnlyRootFilesystem, true)
  assert.equal(c.securityContext.allowPrivilegeEscalation, false)
  assert.deepEqual(c.securityContext.capabilities, { drop: ['ALL'] })
  assert.deepEqual(
    c.volumeMounts.map((m: { mountPath: string }) => m.mountPath),
    ['/tmp', '/app/uploads', '/app/var/cache'],
  )
})

test('an environment is a labelled namespace, its config, claims, Service and default-deny policies; all valid', () => {
  const objs = environmentManifests(t)
  for (const o of objs) validateManifest(o)
  const ns = objs[0]
  assert.equal(ns?.kind, 'Namespace')
  assert.equal(ns?.metadata.name, namespaceOf(t.environmentId))
  assert.deepEqual(ns?.metadata.labels, {
    'app.kubernetes.io/managed-by': 'palisade',
    'palisade.dev/workspace': 'acme',
    'palisade.dev/project': 'shop',
    'palisade.dev/environment': 'prod',
    'palisade.dev/environment-id': 'env_abc123',
  })
  const names = objs.map((o) => `${o.kind}/${o.metadata.name}`)
  assert.ok(names.includes('NetworkPolicy/default-deny'))
  assert.ok(!names.includes('NetworkPolicy/allow-app-egress'), 'egress none: no egress allowance')
  assert.equal(objs.filter((o) => o.kind === 'PersistentVolumeClaim').length, 2)
  const secret = objs.find((o) => o.kind === 'Secret')
  assert.deepEqual(secret?.['data'], { B: Buffer.from('2').toString('base64') })
})

test('services are StatefulSets with their own claim and Secret, valid against the schema', () => {
  for (const kind of ['mariadb', 'redis', 'postgresql'] as const) {
    const objs = serviceManifests(t, { name: 'db', kind, password: 'a'.repeat(32) })
    for (const o of objs) validateManifest(o)
    const sts = objs.find((o) => o.kind === 'StatefulSet')
    const spec = sts?.['spec'] as { volumeClaimTemplates: unknown[] }
    assert.equal(spec.volumeClaimTemplates.length, 1)
  }
})

test('quantities are written in the form the API server stores them (a read-back compares equal)', () => {
  assert.equal(cpuQuantity(1), '1')
  assert.equal(cpuQuantity(0.25), '250m')
  assert.equal(memoryQuantity(2048), '2Gi')
  assert.equal(memoryQuantity(300), '300Mi')
  assert.deepEqual(resourcesFor({ instances: 1, memoryMb: 64, cpu: 0.1 }).requests, {
    cpu: '50m',
    memory: '32Mi',
  })
})

test('read-back differences name the path; server defaults and omitted empty maps are not differences', () => {
  assert.deepEqual(missingFields({ a: { b: 1, c: [1, 2] } }, { a: { b: 1, c: [1, 2], d: 'default' } }), [])
  assert.deepEqual(missingFields({ a: { b: 1 } }, { a: {} }), ['a.b'])
  assert.deepEqual(missingFields({ data: {} }, {}), [])
  assert.deepEqual(missingFields({ x: [1] }, { x: [] }), ['x'])
})

test('error codes are unique and apart from the deploy codes', () => {
  const codes = Object.values(KUBE_ERRORS)
  assert.equal(new Set(codes).size, codes.length)
  for (const c of codes) {
    assert.match(c, /^PAL_KUBE_[A-Z_]+$/)
    assert.ok(!(Object.values(DEPLOY_ERRORS) as string[]).includes(c))
  }
})

test('an IP allow list never opens the app port around the edge and its WAF (only the edge namespace may connect)', () => {
  const withAllow = { ...t, ipAllow: ['198.51.100.0/24', '0.0.0.0/0'] }
  const edge = environmentManifests(withAllow).find((o) => o.metadata.name === 'allow-edge-to-app')
  const ingress = (edge?.['spec'] as { ingress: Array<{ from: unknown[] }> }).ingress
  assert.deepEqual(ingress[0]?.from, [
    { namespaceSelector: { matchLabels: { 'palisade.dev/role': 'edge' } } },
  ])
  assert.ok(!JSON.stringify(ingress).includes('ipBlock'))
  const ns = environmentManifests(withAllow)[0]
  assert.equal(ns?.metadata.annotations?.['palisade.dev/ip-allow'], '198.51.100.0/24,0.0.0.0/0')
})

test("a release runs on the customer's image, or on the official image of the exact pinned runtime version", () => {
  assert.equal(
    runtimeImage('custom:registry.example.com/team/app:1.2', null),
    'registry.example.com/team/app:1.2',
  )
  assert.equal(runtimeImage('node@20', '20.11.1'), 'docker.io/library/node:20.11.1-bookworm-slim')
  assert.equal(runtimeImage('php@8.2', '8.2.20'), 'docker.io/library/php:8.2.20-cli-bookworm')
  assert.equal(runtimeImage('static', null), 'docker.io/library/nginx:1.27-alpine')
  assert.throws(() => runtimeImage('node@20', null), isInvalid('runtimeVersion'))
  assert.throws(() => runtimeImage('custom:--privileged', null), isInvalid('runtime'))
  assert.throws(() => runtimeImage('java@21', '21.0.1'), isInvalid('runtime'))
})

test('an in-cluster build runs kaniko with the generated Dockerfile on the pinned runtime image, mounted read-only', () => {
  const base = runtimeImage('node@20', '20.11.1')
  const file = buildDockerfile('node@20', base)
  assert.match(file, /^FROM docker\.io\/library\/node:20\.11\.1-bookworm-slim\n/)
  assert.match(file, /npm ci/)
  assert.match(file, /USER 10001:10001/)
  const cm = buildDockerfileManifest(t, 3, file)
  validateManifest(cm)
  const job = buildJobManifest(t, {
    number: 3,
    repository: 'https://git.example.test/acme/shop.git',
    ref: 'refs/heads/main',
    registry: 'registry.example.test',
    dockerfileConfigMap: cm.metadata.name,
  })
  validateManifest(job)
  const pod = (job['spec'] as { template: { spec: Record<string, unknown> } }).template.spec
  const c = (pod['containers'] as Array<Record<string, unknown>>)[0] ?? {}
  assert.ok((c['args'] as string[]).includes('--dockerfile=/palisade/Dockerfile'))
  assert.deepEqual(c['volumeMounts'], [{ name: 'dockerfile', mountPath: '/palisade', readOnly: true }])
  assert.deepEqual(pod['volumes'], [{ name: 'dockerfile', configMap: { name: 'build-3' } }])
  assert.equal(pod['automountServiceAccountToken'], false)
  // Static sites are nginx's; a base image that is not an image reference is refused before any build.
  assert.match(buildDockerfile('static', runtimeImage('static', null)), /COPY \. \/usr\/share\/nginx\/html/)
  assert.throws(() => buildDockerfile('node@20', 'node; rm -rf /'), isInvalid('baseImage'))
  assert.throws(
    () =>
      buildJobManifest(t, {
        number: 3,
        repository: 'https://git.example.test/a.git',
        ref: 'main',
        registry: 'r.test',
        dockerfileConfigMap: 'Bad_Name',
      }),
    isInvalid('dockerfileConfigMap'),
  )
})
