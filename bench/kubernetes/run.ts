/**
 * bench/kubernetes: the Kubernetes driver against the real test API server (scripts/kube-test-cluster.sh;
 * only the kubelet is simulated): time to apply a new environment, to deploy a release (rollout finished),
 * to roll back; then time for a freshly started control plane to reconcile N environments (nothing
 * drifted, and with 10 Deployments deleted by hand).
 * Run: node --import tsx bench/kubernetes/run.ts [--runs 10] [--envs 100]
 */
import { performance } from 'node:perf_hooks'
import type { EnvironmentTarget } from '../../src/deploy/drivers/environment-driver.js'
import {
  createKubeClient,
  credentialsFromKubeconfig,
} from '../../src/deploy/drivers/kubernetes/kube-client.js'
import { createKubernetesDriver } from '../../src/deploy/drivers/kubernetes/kubernetes-driver.js'
import { namespaceOf } from '../../src/deploy/drivers/kubernetes/manifests.js'
import { startSimulatedKubelet, testKubeconfig } from '../../src/deploy/drivers/kubernetes/testing.js'

const args = process.argv.slice(2)
const arg = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? Number(args[i + 1]) : fallback
}
const RUNS = arg('runs', 10)
const ENVS = arg('envs', 100)

const target = (i: number, tag: string): EnvironmentTarget => ({
  environmentId: `env_bench${tag}${i}`,
  workspace: 'bench',
  project: 'shop',
  environment: `e${i}`,
  sizing: { instances: 1, memoryMb: 256, cpu: 0.5 },
  healthCheckPath: '/health',
  persistentDirs: ['uploads'],
  variables: { MODE: 'bench' },
  secrets: { KEY: 'v' },
  egress: 'public',
  ipAllow: [],
})
const image = (n: number) => ({ number: n, image: `registry.example.test/bench/app:${n}`, argv: [] })

const stats = (xs: number[]): string => {
  const s = [...xs].sort((a, b) => a - b)
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN
  return `median ${q(0.5).toFixed(0)} ms, p90 ${q(0.9).toFixed(0)} ms (n=${s.length})`
}
const time = async (fn: () => Promise<unknown>): Promise<number> => {
  const t0 = performance.now()
  await fn()
  return performance.now() - t0
}
async function pool<T>(items: readonly T[], width: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(
    Array.from({ length: width }, async () => {
      for (let i = next++; i < items.length; i = next++) await fn(items[i] as T)
    }),
  )
}

const kubeconfig = await testKubeconfig()
const client = createKubeClient(credentialsFromKubeconfig(kubeconfig))
const kubelet = await startSimulatedKubelet(client, 50)
const driver = createKubernetesDriver({ client, timeoutMs: 120_000, pollMs: 50 })
const tag = Math.random().toString(36).slice(2, 6)
const created: string[] = []
try {
  const apply: number[] = []
  const deploy: number[] = []
  const rollback: number[] = []
  for (let i = 0; i < RUNS; i++) {
    const t = target(i, `${tag}r`)
    created.push(t.environmentId)
    apply.push(await time(() => driver.applyEnvironment(t)))
    await driver.deploy(t, image(1))
    deploy.push(await time(() => driver.deploy(t, image(2))))
    rollback.push(await time(() => driver.rollback(t)))
  }
  console.log(
    `apply a new environment (namespace, config, secret, PVC, service, 6 policies): ${stats(apply)}`,
  )
  console.log(`deploy a release (apply + read back + rollout of 1 instance finished): ${stats(deploy)}`)
  console.log(`roll back (re-apply the previous spec + rollout finished): ${stats(rollback)}`)

  const targets = Array.from({ length: ENVS }, (_, i) => target(i, `${tag}c`))
  created.push(...targets.map((t) => t.environmentId))
  const setUp = await time(() =>
    pool(targets, 8, async (t) => {
      await driver.applyEnvironment(t)
      await driver.deploy(t, image(1))
    }),
  )
  console.log(`set-up: ${ENVS} environments applied and deployed in ${(setUp / 1000).toFixed(1)} s`)
  // A control plane that just started: a new client and driver, nothing cached.
  const fresh = createKubernetesDriver({ client: createKubeClient(credentialsFromKubeconfig(kubeconfig)) })
  let reports = 0
  const clean = await time(async () => (reports = (await fresh.reconcile(targets)).length))
  console.log(
    `reconcile ${ENVS} environments after a restart, nothing drifted: ${clean.toFixed(0)} ms (${reports} repaired)`,
  )
  for (const t of targets.slice(0, 10))
    await client.remove('apps/v1', 'Deployment', namespaceOf(t.environmentId), 'web')
  const drifted = await time(async () => (reports = (await fresh.reconcile(targets)).length))
  console.log(
    `reconcile ${ENVS} environments after a restart, 10 Deployments deleted by hand: ${drifted.toFixed(0)} ms (${reports} repaired)`,
  )
} finally {
  await pool(created, 8, (id) => driver.removeEnvironment(id).catch(() => undefined))
  await kubelet.stop()
}
