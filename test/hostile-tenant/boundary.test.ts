/**
 * The isolation invariant (docs/isolation.md) as a rule a tool checks: code that names an environment's
 * directory tree (`<data>/envs`) or a tenant-writable part of it (`shared`, `builds`, `home`) lives in the
 * modules listed here, each with the reason it may. Anything new that touches environment trees must go
 * through `TenantFiles` (src/shared/tenant-files.ts) or be added here with its reason, in review.
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'

const SRC = path.join(import.meta.dirname, '..', '..', 'src')

/** Who may name the environment tree, and why. */
const MAY_NAME_ENV_TREE: Record<string, string> = {
  'deploy/drivers/local/local-driver.ts': 'prepares environments and mounts their leaves into sandboxes',
  'deploy/drivers/local/local-environment-driver.ts':
    "names an environment's directory to hand it to the local driver's prepareEnvironment (touches nothing in it)",
  'deploy/deployer.ts': 'root-owned releases; tenant leaves removed only through driver.files',
  'services/services.ts':
    'service directories: made and removed by root in the root-owned `services`, everything below them through instance-files.ts (as the tenant)',
  'services/sync/sync.ts':
    'lists scratch service directories of an interrupted sync (removed by services, as the tenant)',
  'main.ts': 'lists <data>/envs to find deleted environments (names only)',
}

/** Who may name a tenant-writable leaf (`shared`, `builds`, `home`) of an environment, and why. */
const MAY_NAME_TENANT_LEAVES: Record<string, string> = {
  'deploy/drivers/local/tenant-tree.ts': 'the module that touches tenant directories (as the tenant)',
  'deploy/drivers/local/local-driver.ts':
    'bind-mounts leaves into the sandbox (root resolves no path below them)',
  'deploy/deployer.ts':
    "lists leaves (only root-owned directories are walked) and a root-private git work dir's home",
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name)
    if (statSync(p).isDirectory()) return sources(p)
    return p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : []
  })
}

test('only the listed modules name environment trees or their tenant-writable leaves', () => {
  const files = sources(SRC)
  assert.ok(files.length > 100)
  const naming = (re: RegExp): string[] =>
    files
      .filter((f) => re.test(readFileSync(f, 'utf8')))
      .map((f) => path.relative(SRC, f))
      .sort()
  assert.deepEqual(naming(/join\([^)\n]*['"`]envs['"`]/), Object.keys(MAY_NAME_ENV_TREE).sort())
  assert.deepEqual(
    naming(/(join\([^)\n]*|\[\s*|\.\.\.ROOT_OWNED, )['"`](shared|builds|home)['"`]/),
    Object.keys(MAY_NAME_TENANT_LEAVES).sort(),
  )
})

test('the tenant module is the only one that runs file commands as the tenant or changes owners in environment trees', () => {
  for (const f of sources(SRC)) {
    const rel = path.relative(SRC, f)
    const text = readFileSync(f, 'utf8')
    // `chown -R` as root over a tree is the operation that followed tenant links on 2026-12-07.
    assert.doesNotMatch(text, /['"]chown['"],\s*\[?\s*['"]-R/, `${rel} runs chown -R`)
    if (rel === 'deploy/drivers/local/tenant-tree.ts') continue
    assert.doesNotMatch(text, /lchownSync\(/, `${rel} changes owners (only the tenant module may)`)
  }
})
