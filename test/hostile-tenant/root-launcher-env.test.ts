import assert from 'node:assert/strict'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { createLocalDriver, removeSandbox, sandboxName } from '../../src/deploy/index.js'
import { rootSafeEnv } from '../../src/deploy/drivers/local/sandbox.js'

const isRoot = process.getuid?.() === 0

test(
  'a PATH variable set by the tenant does not choose the programs root runs to start its sandbox (privilege escalation)',
  { skip: isRoot ? false : 'needs root (sandboxes)' },
  async (t) => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'pal-launch-'))
    chmodSync(dataDir, 0o711)
    const envId = `env_${Math.random().toString(36).slice(2, 14)}`
    const driver = createLocalDriver({ dataDir, isolate: true })
    t.after(async () => {
      await driver.close(2_000)
      await removeSandbox(sandboxName(envId))
      rmSync(dataDir, { recursive: true, force: true })
    })
    // Programs named like the ones root runs, in a directory the tenant could plant them in.
    const planted = path.join(dataDir, 'planted')
    const marker = path.join(dataDir, 'pwned')
    mkdirSync(planted, { mode: 0o755 })
    for (const name of ['nsenter', 'bwrap', 'sh', 'setpriv']) {
      writeFileSync(path.join(planted, name), `#!/bin/sh\ntouch ${marker}\nexit 1\n`, { mode: 0o755 })
    }
    await driver.prepareEnvironment(envId, path.join(dataDir, 'envs', envId))
    const release = path.join(dataDir, 'envs', envId, 'releases', '1')
    mkdirSync(release, { recursive: true, mode: 0o755 })
    let out = ''
    const r = await driver.run({
      environmentId: envId,
      cwd: release,
      argv: ['/bin/echo', 'ran'],
      env: { PATH: `${planted}:/usr/bin:/bin` },
      onOutput: (_s, text) => (out += text),
      timeoutMs: 15_000,
      network: 'sandbox',
      limits: { memoryBytes: 256 * 1024 ** 2, cpuQuotaUs: 100_000, cpuPeriodUs: 100_000, pidsMax: 64 },
    })
    assert.equal(existsSync(marker), false, 'root ran a program from the tenant PATH')
    assert.equal(r.code, 0, out)
    assert.equal(out.trim(), 'ran')
  },
)

test('loader and libc variables never reach the processes root runs before the sandbox drops privileges', () => {
  const env = rootSafeEnv({
    PATH: '/x',
    LD_PRELOAD: '/evil.so',
    LD_LIBRARY_PATH: '/evil',
    LD_AUDIT: '/evil.so',
    GCONV_PATH: '/evil',
    GLIBC_TUNABLES: 'glibc.malloc.check=3',
    LOCPATH: '/evil',
    HOSTALIASES: '/evil',
    APP_SETTING: 'kept',
  })
  assert.deepEqual(env, { PATH: '/x', APP_SETTING: 'kept' })
})
