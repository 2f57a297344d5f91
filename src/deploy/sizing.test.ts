import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DEFAULT_SIZING } from '../tenancy/index.js'
import { kubernetesResources, parseSizing, PIDS, planSizing } from './sizing.js'

const MiB = 1024 ** 2

test('an instance gets the sizing memory, a CPU quota per 100 ms period and the process cap', () => {
  const plan = planSizing({ instances: 3, memoryMb: 512, cpu: 0.5 })
  assert.equal(plan.instances, 3)
  assert.deepEqual(plan.app, {
    memoryBytes: 512 * MiB,
    cpuQuotaUs: 50_000,
    cpuPeriodUs: 100_000,
    pidsMax: PIDS.app,
  })
  assert.deepEqual(plan.job, { ...plan.app, pidsMax: PIDS.job })
})

test('builds and services get their own shares with floors', () => {
  const small = planSizing({ instances: 1, memoryMb: 128, cpu: 0.25 })
  assert.equal(small.build.memoryBytes, 1024 * MiB)
  assert.equal(small.build.cpuQuotaUs, 100_000)
  assert.equal(small.service.memoryBytes, 256 * MiB)
  assert.equal(small.service.cpuQuotaUs, 50_000)
  const big = planSizing({ instances: 1, memoryMb: 4096, cpu: 4 })
  assert.equal(big.build.memoryBytes, 4096 * MiB)
  assert.equal(big.service.memoryBytes, 2048 * MiB)
  assert.equal(big.service.cpuQuotaUs, 200_000)
})

test('the smallest CPU share still gives the kernel a valid quota', () => {
  assert.equal(planSizing({ instances: 1, memoryMb: 64, cpu: 0.001 }).app.cpuQuotaUs, 1_000)
})

test('Kubernetes resources carry the same limits as requests and limits', () => {
  const r = kubernetesResources(planSizing({ instances: 2, memoryMb: 512, cpu: 0.5 }).app)
  assert.deepEqual(r, {
    requests: { cpu: '250m', memory: '256Mi' },
    limits: { cpu: '500m', memory: '512Mi' },
  })
})

test('a stored sizing is read with defaults for what is missing or malformed', () => {
  assert.deepEqual(parseSizing('{"instances":3}', DEFAULT_SIZING), { ...DEFAULT_SIZING, instances: 3 })
  assert.deepEqual(parseSizing('not json', DEFAULT_SIZING), DEFAULT_SIZING)
  assert.deepEqual(parseSizing('{"instances":-1,"cpu":"x"}', DEFAULT_SIZING), DEFAULT_SIZING)
  assert.deepEqual(parseSizing(null, DEFAULT_SIZING), DEFAULT_SIZING)
})
