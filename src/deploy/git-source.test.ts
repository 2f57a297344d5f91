import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { assertPublicRepository, assertRef, fetchSource, resolveRepository } from './git-source.js'
import { createRepo } from './testing.js'

function dirs(t: { after(fn: () => void): void }): {
  root: string
  allowed: string
  data: string
  outside: string
} {
  const root = mkdtempSync(path.join(tmpdir(), 'pal-git-'))
  t.after(() => rmSync(root, { recursive: true, force: true }))
  const allowed = path.join(root, 'allowed')
  const data = path.join(root, 'data')
  const outside = path.join(root, 'outside')
  for (const d of [allowed, data, outside]) mkdirSync(d)
  return { root, allowed, data, outside }
}

const refusedCode = (fn: () => unknown): string => {
  try {
    fn()
  } catch (err) {
    return (err as { code: string }).code
  }
  return 'accepted'
}

test('ext:: transport URLs (command execution through git) are refused', () => {
  const opts = { localRoots: ['/tmp'], dataDir: '/var/lib/palisade' }
  for (const url of ['ext::sh -c touch% /tmp/pwned', 'ext::sh', 'fd::17', 'EXT::x']) {
    assert.notEqual(
      refusedCode(() => resolveRepository(url, opts)),
      'accepted',
      url,
    )
  }
})

test('option injection through the repository or the ref is refused', () => {
  const opts = { localRoots: ['/tmp'], dataDir: '/var/lib/palisade' }
  assert.notEqual(
    refusedCode(() => resolveRepository('--upload-pack=touch /tmp/pwned', opts)),
    'accepted',
  )
  assert.notEqual(
    refusedCode(() => resolveRepository('-u', opts)),
    'accepted',
  )
  for (const ref of ['--upload-pack=id', '-b', 'a..b', '/abs', 'x y', 'main.lock', 'a//b']) {
    assert.throws(() => assertRef(ref), { code: 'PAL_DEPLOY_FIELD_INVALID' }, ref)
  }
  for (const ref of ['main', 'release/1.2', 'v1.0.0', 'a'.repeat(40)]) assertRef(ref)
})

test('http, ssh, git and credential-bearing URLs are refused', () => {
  const opts = { localRoots: [], dataDir: '/d' }
  for (const url of [
    'http://example.com/r.git',
    'ssh://git@example.com/r.git',
    'git://example.com/r',
    'https://user:pw@example.com/r.git',
  ]) {
    assert.notEqual(
      refusedCode(() => resolveRepository(url, opts)),
      'accepted',
      url,
    )
  }
  assert.equal(resolveRepository('https://example.com/r.git', opts).url, 'https://example.com/r.git')
})

test('local repositories outside the allowed roots, in the data dir or reached by traversal are refused', (t) => {
  const d = dirs(t)
  const opts = { localRoots: [d.allowed], dataDir: d.data }
  mkdirSync(path.join(d.allowed, 'repo'))
  mkdirSync(path.join(d.data, 'repo'))
  mkdirSync(path.join(d.outside, 'repo'))
  assert.equal(
    resolveRepository(path.join(d.allowed, 'repo'), opts).url,
    'file://' + path.join(d.allowed, 'repo'),
  )
  assert.equal(
    refusedCode(() => resolveRepository(path.join(d.outside, 'repo'), opts)),
    'PAL_DEPLOY_REPOSITORY_REFUSED',
  )
  assert.notEqual(
    refusedCode(() => resolveRepository(`${d.allowed}/../outside/repo`, opts)),
    'accepted',
  )
  assert.notEqual(
    refusedCode(() => resolveRepository(`file://${d.allowed}/%2e%2e/outside/repo`, opts)),
    'accepted',
  )
  // A symlink inside the allowed root does not lead out of it.
  symlinkSync(path.join(d.outside, 'repo'), path.join(d.allowed, 'link'))
  assert.equal(
    refusedCode(() => resolveRepository(path.join(d.allowed, 'link'), opts)),
    'PAL_DEPLOY_REPOSITORY_REFUSED',
  )
  // The data dir stays off limits even when an allowed root contains it.
  assert.equal(
    refusedCode(() =>
      resolveRepository(path.join(d.data, 'repo'), { localRoots: [d.root], dataDir: d.data }),
    ),
    'PAL_DEPLOY_REPOSITORY_REFUSED',
  )
  assert.equal(
    refusedCode(() => resolveRepository(path.join(d.allowed, 'repo'), { localRoots: [], dataDir: d.data })),
    'PAL_DEPLOY_REPOSITORY_REFUSED',
  )
})

test('fetching a branch or a commit gives the tree without .git', async (t) => {
  const d = dirs(t)
  const repo = createRepo(path.join(d.allowed, 'repo'))
  const c1 = repo.commit({ 'a.txt': 'one' })
  const c2 = repo.commit({ 'a.txt': 'two' })
  const home = path.join(d.root, 'home')
  const url = resolveRepository(repo.dir, { localRoots: [d.allowed], dataDir: d.data }).url
  const got = await fetchSource({
    url,
    ref: 'main',
    dir: path.join(d.root, 'r1'),
    home,
    timeoutMs: 30_000,
    onOutput: () => undefined,
  })
  assert.equal(got, c2)
  const old = await fetchSource({
    url,
    ref: c1,
    dir: path.join(d.root, 'r2'),
    home,
    timeoutMs: 30_000,
    onOutput: () => undefined,
  })
  assert.equal(old, c1)
  const { existsSync, readFileSync } = await import('node:fs')
  assert.equal(readFileSync(path.join(d.root, 'r2', 'a.txt'), 'utf8'), 'one')
  assert.equal(existsSync(path.join(d.root, 'r2', '.git')), false)
  await assert.rejects(
    fetchSource({
      url,
      ref: 'nope',
      dir: path.join(d.root, 'r3'),
      home,
      timeoutMs: 30_000,
      onOutput: () => undefined,
    }),
    /git fetch failed/,
  )
})

test(
  "a local repository owned by another user of the host is fetched (no git 'dubious ownership' refusal)",
  { skip: process.getuid?.() === 0 ? false : 'needs root (chown)' },
  async (t) => {
    const root = mkdtempSync(path.join(tmpdir(), 'pal-git-owner-'))
    t.after(() => rmSync(root, { recursive: true, force: true }))
    const repo = createRepo(path.join(root, 'repo'))
    repo.commit({ 'a.txt': 'hello' })
    execFileSync('chown', ['-R', '65534:65534', repo.dir])
    const dir = path.join(root, 'out')
    const commit = await fetchSource({
      url: 'file://' + repo.dir,
      ref: 'main',
      dir,
      home: path.join(root, 'home'),
      timeoutMs: 30_000,
      onOutput: () => undefined,
    })
    assert.match(commit, /^[0-9a-f]{40}$/)
    assert.equal(readFileSync(path.join(dir, 'a.txt'), 'utf8'), 'hello')
  },
)

test('a remote repository whose host resolves to a private or metadata address is refused before git runs', async () => {
  for (const address of ['127.0.0.1', '10.1.2.3', '169.254.169.254', '::1'])
    await assert.rejects(
      assertPublicRepository('https://git.example.test/repo.git', async () => [address]),
      /refused: resolves to a non-public address/,
    )
  assert.equal(
    await assertPublicRepository('https://git.example.test:8443/repo.git', async () => ['93.184.216.34']),
    'git.example.test:8443:93.184.216.34',
  )
})
