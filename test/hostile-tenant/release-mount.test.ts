/**
 * A sandbox shows at /app one of its environment's own directories and nothing else of the host: a start
 * whose working directory is `/` (or any directory outside the environment) is refused before anything runs.
 */
import assert from 'node:assert/strict'
import { randomInt } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { createLocalDriver, removeSandbox, sandboxName } from '../../src/deploy/index.js'
import { ROOT_ONLY } from './support.js'

test(
  'a process whose release directory is outside its environment is not started',
  { skip: ROOT_ONLY },
  async (t) => {
    const base = mkdtempSync(path.join(tmpdir(), 'pal-mount-'))
    const dataDir = path.join(base, 'data')
    mkdirSync(dataDir, { mode: 0o700 })
    const driver = createLocalDriver({ dataDir, isolate: true })
    const env = `env_mount${randomInt(1e9)}`
    t.after(async () => {
      await driver.close(1_000)
      await removeSandbox(sandboxName(env))
      rmSync(base, { recursive: true, force: true })
    })
    await driver.prepareEnvironment(env, path.join(dataDir, 'envs', env))
    for (const cwd of ['/', base, path.join(dataDir, 'envs')]) {
      await assert.rejects(
        driver.start({
          environmentId: env,
          instanceId: `ins_m${randomInt(1e6)}`,
          cwd,
          argv: ['true'],
          env: {},
          onOutput: () => undefined,
        }),
        /not a directory of the environment/,
        cwd,
      )
      await assert.rejects(
        driver.run({
          environmentId: env,
          cwd,
          argv: ['true'],
          env: {},
          onOutput: () => undefined,
          timeoutMs: 5_000,
          network: 'sandbox',
        }),
        /not a directory of the environment/,
        cwd,
      )
    }
  },
)
