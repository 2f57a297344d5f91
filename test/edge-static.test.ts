import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { send, startEdge, testRoute } from '../src/edge/testing.js'

async function site(t: import('node:test').TestContext): Promise<{ root: string }> {
  const base = await mkdtemp(join(tmpdir(), 'palisade-static-'))
  t.after(() => rm(base, { recursive: true, force: true }))
  const root = join(base, 'site')
  await mkdir(join(root, 'docs'), { recursive: true })
  await writeFile(join(root, 'index.html'), '<h1>home</h1>')
  await writeFile(join(root, 'style.css'), 'body{}')
  await writeFile(join(root, 'docs', 'index.html'), '<h1>docs</h1>')
  await writeFile(join(root, '.env'), 'DATABASE_PASSWORD=leak-me')
  await writeFile(join(base, 'secret.txt'), 'outside-secret')
  await symlink(join(base, 'secret.txt'), join(root, 'link-out.txt'))
  return { root }
}

test('a static target serves files with content types and index.html for directories', async (t) => {
  const { root } = await site(t)
  const e = await startEdge()
  t.after(() => e.stop())
  e.edge.routes.upsert(
    testRoute({ environmentId: 'env_s', hosts: ['s.localhost'], target: { kind: 'static', root } }),
  )
  const home = await send(e.httpPort, { host: 's.localhost', path: '/' })
  assert.equal(home.status, 200)
  assert.equal(home.body, '<h1>home</h1>')
  assert.match(String(home.headers['content-type']), /^text\/html/)
  const css = await send(e.httpPort, { host: 's.localhost', path: '/style.css?v=2' })
  assert.match(String(css.headers['content-type']), /^text\/css/)
  const docs = await send(e.httpPort, { host: 's.localhost', path: '/docs/' })
  assert.equal(docs.body, '<h1>docs</h1>')
  const head = await send(e.httpPort, { host: 's.localhost', path: '/style.css', method: 'HEAD' })
  assert.equal(head.status, 200)
  assert.equal(head.body, '')
  assert.equal((await send(e.httpPort, { host: 's.localhost', path: '/missing.js' })).status, 404)
  assert.equal((await send(e.httpPort, { host: 's.localhost', method: 'POST', body: 'x' })).status, 405)
})

test('path traversal out of a static root is refused in every spelling', async (t) => {
  const { root } = await site(t)
  const e = await startEdge()
  t.after(() => e.stop())
  e.edge.routes.upsert(
    testRoute({ environmentId: 'env_s', hosts: ['s.localhost'], target: { kind: 'static', root } }),
  )
  const attempts = [
    '/../secret.txt',
    '/%2e%2e/secret.txt',
    '/%2e%2e%2fsecret.txt',
    '/docs/..%2f..%2fsecret.txt',
    '/..%5csecret.txt',
    '/docs/%2e%2e/%2e%2e/secret.txt',
    '/secret.txt%00.html',
    '/link-out.txt',
    '/.env',
    '/%2eenv',
    '//../secret.txt',
    '/%252e%252e/secret.txt',
  ]
  for (const path of attempts) {
    const res = await send(e.httpPort, { host: 's.localhost', path })
    assert.ok(res.status === 400 || res.status === 404, `${path} → ${res.status}`)
    assert.ok(!res.body.includes('outside-secret') && !res.body.includes('leak-me'), `${path} leaked`)
  }
})
