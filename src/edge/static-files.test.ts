import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { contentTypeFor, resolveStatic } from './static-files.js'

test('traversal spellings resolve to bad_request or not_found, never to a file outside the root', async (t) => {
  const base = await mkdtemp(join(tmpdir(), 'palisade-static-unit-'))
  t.after(() => rm(base, { recursive: true, force: true }))
  await mkdir(join(base, 'root'))
  await writeFile(join(base, 'root', 'ok.txt'), 'ok')
  await writeFile(join(base, 'outside.txt'), 'no')
  const root = join(base, 'root')
  assert.equal((await resolveStatic(root, '/ok.txt')).kind, 'file')
  for (const path of [
    '/../outside.txt',
    '/%2e%2e/outside.txt',
    '/a/%2e%2e%2f%2e%2e%2foutside.txt',
    '/%5c..%5coutside.txt',
    '/ok.txt%00',
    '/%E0%A4%A',
  ]) {
    assert.notEqual((await resolveStatic(root, path)).kind, 'file', path)
  }
})

test('content types come from the extension, unknown ones are octet-stream', () => {
  assert.equal(contentTypeFor('/a/b.JS'), 'text/javascript; charset=utf-8')
  assert.equal(contentTypeFor('x.bin'), 'application/octet-stream')
})
