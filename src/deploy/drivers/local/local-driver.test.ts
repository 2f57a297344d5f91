import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, test } from 'node:test'
import { probe } from '../../health-check.js'
import { eventually } from '../../testing.js'
import type { DeployDriver } from '../driver.js'
import { createLocalDriver, sandboxName } from './local-driver.js'
import { removeSandbox } from './isolation.js'

const APP = `
const http = require('node:http')
const s = http.createServer((q, r) => r.end('up ' + process.getuid()))
s.listen(Number(process.env.PORT), '127.0.0.1')
process.on('SIGTERM', () => s.close(() => process.exit(0)))
`

const isRoot = process.getuid?.() === 0
const modes: Array<{ name: string; isolate: boolean }> = [{ name: 'loopback ports', isolate: false }]
if (isRoot) modes.push({ name: 'namespaces', isolate: true })

/** The same conformance cases for every driver configuration. */
for (const mode of modes) {
  describe(`local driver (${mode.name})`, () => {
    const setUp = async (t: {
      after(fn: () => Promise<void> | void): void
    }): Promise<{ driver: DeployDriver; envId: string; envDir: string }> => {
      const dataDir = mkdtempSync(path.join(tmpdir(), 'pal-driver-'))
      const envId = `env_${Math.random().toString(36).slice(2, 14)}`
      const envDir = path.join(dataDir, 'envs', envId)
      const driver = createLocalDriver({
        dataDir,
        isolate: mode.isolate,
        backoff: { initialMs: 100, maxMs: 400, resetAfterMs: 10_000 },
      })
      await driver.prepareEnvironment(envId, envDir)
      // A release as the deployer leaves it: root-owned, readable, not writable by the app.
      const release = path.join(envDir, 'releases', '1')
      mkdirSync(release, { mode: 0o755 })
      writeFileSync(path.join(release, 'app.js'), APP, { mode: 0o644 })
      t.after(async () => {
        await driver.close(2_000)
        if (mode.isolate) await removeSandbox(sandboxName(envId))
        rmSync(dataDir, { recursive: true, force: true })
      })
      return { driver, envId, envDir: release }
    }

    test('a started process is reachable through its upstream and stops cleanly', async (t) => {
      const { driver, envId, envDir } = await setUp(t)
      const out: string[] = []
      const proc = await driver.start({
        environmentId: envId,
        instanceId: 'ins_a1',
        cwd: envDir,
        argv: ['node', 'app.js'],
        env: {},
        onOutput: (_s, x) => out.push(x),
      })
      await eventually(() => probe(proc.upstream, '/', 'x', 1_000), 10_000, 'the app to answer')
      assert.equal(proc.status().state, 'running')
      await proc.stop(2_000)
      assert.equal(proc.status().state, 'stopped')
      assert.equal(await probe(proc.upstream, '/', 'x', 500), false)
    })

    test('a crashing process is restarted with growing delays', async (t) => {
      const { driver, envId, envDir } = await setUp(t)
      const proc = await driver.start({
        environmentId: envId,
        instanceId: 'ins_a2',
        cwd: envDir,
        argv: ['node', '-e', 'process.exit(3)'],
        env: {},
        onOutput: () => undefined,
      })
      assert.deepEqual(await proc.firstExit, { code: 3, signal: null })
      const s = await eventually(
        () => (proc.status().restarts >= 2 ? proc.status() : undefined),
        10_000,
        'two restarts',
      )
      assert.equal(s.lastExit?.code, 3)
      await proc.stop(1_000)
    })

    test('one-off commands report exit codes and are killed at their timeout', async (t) => {
      const { driver, envId, envDir } = await setUp(t)
      let out = ''
      const ok = await driver.run({
        environmentId: envId,
        cwd: envDir,
        argv: ['/bin/sh', '-c', 'echo hi; exit 4'],
        env: { A: '1' },
        onOutput: (_s, x) => (out += x),
        timeoutMs: 10_000,
        network: 'sandbox',
      })
      assert.equal(ok.code, 4)
      assert.equal(out, 'hi\n')
      const slow = await driver.run({
        environmentId: envId,
        cwd: envDir,
        argv: ['sleep', '30'],
        env: {},
        onOutput: () => undefined,
        timeoutMs: 300,
        network: 'sandbox',
      })
      assert.equal(slow.timedOut, true)
    })
  })
}
