import assert from 'node:assert/strict'
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, test } from 'node:test'
import { eventually } from '../testing.js'
import type { EnvironmentDriver, EnvironmentTarget, ReleaseArtifact } from './environment-driver.js'
import { createKubernetesDriver } from './kubernetes/kubernetes-driver.js'
import { adminClient, startSimulatedKubelet } from './kubernetes/testing.js'
import { createLocalEnvironmentDriver } from './local/local-environment-driver.js'
import { createLocalDriver } from './local/local-driver.js'

/**
 * One conformance suite, both drivers, one run: each step is observed through the driver's own `status()`.
 * Kubernetes runs against the real test API server and controller-manager (scripts/kube-test-cluster.sh);
 * only the kubelet is simulated (kubernetes/testing.ts).
 */

const APP = (n: number) => `
const http = require('node:http')
http.createServer((q, r) => r.end(q.url === '/health' ? 'ok' : 'release ${n}')).listen(Number(process.env.PORT), '127.0.0.1')
`

interface Fixture {
  readonly driver: EnvironmentDriver
  release(n: number): ReleaseArtifact
  close(): Promise<void>
}

const localFixture = (isolate: boolean) => async (): Promise<Fixture> => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'pal-conf-'))
  // Environment users must be able to pass through the temp dir to reach their releases.
  if (isolate) chmodSync(dataDir, 0o711)
  const local = createLocalDriver({
    dataDir,
    isolate,
    backoff: { initialMs: 100, maxMs: 400, resetAfterMs: 10_000 },
  })
  return {
    driver: createLocalEnvironmentDriver({ driver: local, dataDir }),
    release(n) {
      const dir = path.join(dataDir, 'releases', String(n))
      mkdirSync(dir, { recursive: true })
      writeFileSync(path.join(dir, 'app.js'), APP(n))
      return { number: n, dir, argv: ['node', 'app.js'] }
    },
    async close() {
      await local.close(2_000)
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

const fixtures: Record<string, () => Promise<Fixture>> = {
  'local, loopback ports': localFixture(false),
  ...(process.getuid?.() === 0 ? { 'local, namespaces': localFixture(true) } : {}),
  kubernetes: async () => {
    const client = await adminClient()
    const kubelet = await startSimulatedKubelet(client, 100)
    return {
      driver: createKubernetesDriver({ client, timeoutMs: 90_000, pollMs: 100 }),
      release: (n) => ({ number: n, image: `registry.example.test/palisade/app:${n}`, argv: [] }),
      close: () => kubelet.stop(),
    }
  },
}

for (const [name, make] of Object.entries(fixtures)) {
  describe(`environment driver conformance (${name})`, () => {
    test('an environment lives through create, deploy, switch, rollback, job, service, restrict and delete', async (t) => {
      const fx = await make()
      t.after(() => fx.close())
      const d = fx.driver
      const target: EnvironmentTarget = {
        environmentId: `env_${Math.random().toString(36).slice(2, 12)}`,
        workspace: 'acme',
        project: 'shop',
        environment: 'staging',
        sizing: { instances: 2, memoryMb: 256, cpu: 0.5 },
        healthCheckPath: '/health',
        persistentDirs: [],
        variables: { GREETING: 'hello' },
        secrets: { API_KEY: 's3cret' },
        egress: 'public',
        ipAllow: [],
      }
      t.after(() => d.removeEnvironment(target.environmentId).catch(() => undefined))
      const id = target.environmentId

      await d.applyEnvironment(target)
      let s = await d.status(id)
      assert.equal(s.exists, true)
      assert.equal(s.currentRelease, null)

      await d.deploy(target, fx.release(1))
      s = await d.status(id)
      assert.equal(s.currentRelease, 1)
      assert.equal(s.readyInstances, s.desiredInstances)
      assert.ok(s.readyInstances >= 1)

      await d.deploy(target, fx.release(2))
      s = await d.status(id)
      assert.equal(s.currentRelease, 2, 'the switch to release 2')
      assert.deepEqual(s.releases, [1, 2])

      assert.equal(await d.rollback(target), 1)
      s = await d.status(id)
      assert.equal(s.currentRelease, 1, 'rolled back to release 1')

      assert.equal(
        await d.runJob(target, {
          name: 'migrate',
          argv: ['node', '-e', 'process.exit(0)'],
          timeoutMs: 30_000,
        }),
        'succeeded',
      )
      s = await d.status(id)
      assert.deepEqual(s.jobs.find((j) => j.name === 'migrate')?.state, 'succeeded')

      await d.provisionService(target, { name: 'cache', kind: 'redis' })
      s = await eventually(
        async () => {
          const x = await d.status(id)
          return x.services.some((v) => v.name === 'cache' && v.state === 'running') ? x : undefined
        },
        60_000,
        'the redis service to run',
      )
      assert.deepEqual(
        s.services.map((v) => [v.name, v.kind]),
        [['cache', 'redis']],
      )

      const restricted = { ...target, egress: 'none' as const, ipAllow: ['203.0.113.0/24'] }
      await d.applyEnvironment(restricted)
      s = await d.status(id)
      assert.equal(s.egress, 'none')
      assert.deepEqual(s.ipAllow, ['203.0.113.0/24'])
      assert.equal(s.currentRelease, 1, 'a restriction does not stop the app')

      await d.removeEnvironment(id)
      s = await d.status(id)
      assert.equal(s.exists, false)
      assert.equal(s.currentRelease, null)
    })
  })
}
