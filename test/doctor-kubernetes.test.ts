import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import {
  adminClient,
  startSimulatedKubelet,
  testKubeconfig,
} from '../src/deploy/drivers/kubernetes/testing.js'
import { runCli } from './support/processes.js'

interface Check {
  check: string
  status: 'ok' | 'warn' | 'fail'
  detail: string
}

/**
 * `palisade doctor --kubernetes` against the real test API server. The cluster has no network plugin and
 * the simulated kubelet completes both canary probes, so the connection the policies deny "goes through":
 * the doctor must say NetworkPolicies are not enforced here, and exit 1.
 */
test('palisade doctor --kubernetes checks permissions, dry-runs an environment, catches unenforced NetworkPolicies and cleans up', async (t) => {
  const kubeconfig = await testKubeconfig()
  const admin = await adminClient()
  const kubelet = await startSimulatedKubelet(admin, 100)
  t.after(() => kubelet.stop())
  const dir = mkdtempSync(path.join(tmpdir(), 'palisade-kdoctor-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const res = await runCli(['--json', 'doctor', '--kubernetes'], {
    HOME: dir,
    PALISADE_DATA_DIR: path.join(dir, 'data'),
    PALISADE_DRIVER: 'kubernetes',
    KUBECONFIG: kubeconfig,
  })
  const checks = JSON.parse(res.stdout) as Check[]
  assert.deepEqual(
    checks.map((c) => [c.check, c.status]),
    [
      ['kubernetes api', 'ok'],
      ['kubernetes permissions', 'ok'],
      ['kubernetes dry-run', 'ok'],
      ['network policy enforcement', 'fail'],
      ['kubernetes clean-up', 'ok'],
    ],
    res.stdout + res.stderr,
  )
  assert.match(checks[3]?.detail ?? '', /NOT enforced/)
  assert.equal(res.code, 1)
  const left = await admin.list('v1', 'Namespace', undefined, 'palisade.dev/workspace=palisade-doctor')
  assert.deepEqual(left, [], 'the canary namespace is gone')
})
