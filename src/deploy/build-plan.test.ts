import { execFileSync } from 'node:child_process'
import assert from 'node:assert/strict'
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { BuildPlanError, parseProcfile, planBuild, preparePersistentMountPoints } from './build-plan.js'

function tree(t: { after(fn: () => void): void }, files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'pal-plan-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true })
    writeFileSync(path.join(dir, name), text)
  }
  return dir
}

test('a Procfile web line wins over the runtime default', (t) => {
  const dir = tree(t, {
    Procfile: 'web: node app.js --port $PORT\nworker: node w.js\n',
    'package.json': '{"scripts":{"start":"node server.js"}}',
  })
  const plan = planBuild(dir, 'node@20')
  assert.deepEqual(plan.start, ['/bin/sh', '-c', 'node app.js --port $PORT'])
  assert.deepEqual(parseProcfile('web: a\nflush-cache: b c\n').get('flush-cache'), 'b c')
})

test('node apps use npm ci with a lockfile, npm install with dependencies, and nothing without', (t) => {
  const withLock = tree(t, {
    'package.json': '{"scripts":{"start":"node s.js","build":"tsc"}}',
    'package-lock.json': '{}',
  })
  assert.deepEqual(planBuild(withLock, 'node@20').steps, [
    ['npm', 'ci', '--no-audit', '--no-fund'],
    ['npm', 'run', 'build'],
  ])
  const withDeps = tree(t, {
    'package.json': '{"dependencies":{"x":"1"},"scripts":{"start":"node s.js --x"}}',
  })
  const p = planBuild(withDeps, 'node@20')
  assert.deepEqual(p.steps, [['npm', 'install', '--no-audit', '--no-fund']])
  assert.deepEqual(p.start, ['npm', 'start'])
  const bare = tree(t, { 'package.json': '{"scripts":{"start":"node server.js"}}' })
  assert.deepEqual(planBuild(bare, 'node@20').steps, [])
  assert.deepEqual(planBuild(bare, 'node@20').start, ['node', 'server.js'])
})

test('static sites are served by the edge, from public/ when present', (t) => {
  assert.equal(planBuild(tree(t, { 'public/index.html': 'hi' }), 'static').staticRoot, 'public')
  const plan = planBuild(tree(t, { 'index.html': 'hi' }), 'static')
  assert.equal(plan.kind, 'static')
  assert.equal(plan.staticRoot, '.')
})

test('apps without a way to start are refused with a reason', (t) => {
  assert.throws(() => planBuild(tree(t, { 'package.json': '{}' }), 'node@20'), BuildPlanError)
  assert.throws(() => planBuild(tree(t, { 'main.py': '' }), 'python@3.11'), /Procfile/)
  assert.throws(() => planBuild(tree(t, { 'package.json': '{' }), 'node@20'), /not valid JSON/)
})

test('php@X.Y: PHP’s built-in server on loopback, public/ when it exists, composer only without vendor/', (t) => {
  let hasPhp = true
  try {
    execFileSync('php', ['-v'], { stdio: 'ignore' })
  } catch {
    hasPhp = false
  }
  if (!hasPhp) {
    assert.throws(() => planBuild(tree(t, { 'index.php': '' }), 'php@8.2'), /php is not installed/)
    return
  }
  const plan = planBuild(tree(t, { 'public/index.php': '<?php echo 1;', 'composer.json': '{}' }), 'php@8.2')
  assert.equal(plan.kind, 'process')
  assert.deepEqual(plan.steps, [
    ['composer', 'install', '--no-dev', '--no-interaction', '--no-progress', '--prefer-dist'],
  ])
  assert.match(plan.start?.[2] ?? '', /exec php -S 127\.0\.0\.1:"\$PORT" -t public$/)
  const vendored = planBuild(
    tree(t, { 'index.php': '', 'composer.json': '{}', 'vendor/autoload.php': '' }),
    'php@8.2',
  )
  assert.deepEqual(vendored.steps, [])
  assert.match(vendored.start?.[2] ?? '', /-t \.$/)
  const other = planBuild(tree(t, { 'index.php': '' }), 'php@5.6')
  assert.ok(other.notes.some((n) => n.startsWith('warning: runtime php@5.6 requested')))
})

test('a symlinked manifest pointing elsewhere on the host is ignored', (t) => {
  const dir = tree(t, { 'server.js': '' })
  symlinkSync('/etc/passwd', path.join(dir, 'Procfile'))
  symlinkSync('/etc/hostname', path.join(dir, 'package.json'))
  assert.throws(() => planBuild(dir, 'node@20'), /needs a package.json/)
})

test('persistent dirs become empty mount points in the frozen release', (t) => {
  const release = tree(t, { 'uploads/old.txt': 'from the repository', 'var/readme': 'x' })
  const notes = preparePersistentMountPoints(release, ['uploads', 'var/cache'])
  assert.deepEqual(readdirSync(path.join(release, 'uploads')), [])
  assert.ok(lstatSync(path.join(release, 'var/cache')).isDirectory())
  assert.match(notes.join('\n'), /uploads: the copy in the repository is replaced/)
})

test('a repository symlink cannot make persistent mount points escape the release (path traversal)', (t) => {
  const outside = tree(t, {})
  const release = tree(t, {})
  symlinkSync(outside, path.join(release, 'data'))
  assert.throws(() => preparePersistentMountPoints(release, ['data/uploads']), /symbolic link/)
  assert.equal(existsSync(path.join(outside, 'uploads')), false)
  assert.throws(() => preparePersistentMountPoints(release, ['../x']), /not a relative path/)
})
