import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { LogStore } from './log-store.js'

test('a log past its cap rotates once, so its size stays bounded', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pal-logs-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const logs = new LogStore(dir, { capBytes: 1000 })
  for (let i = 0; i < 100; i++) logs.append('dep_abcdefgh12', `line ${i} ${'x'.repeat(40)}\n`)
  assert.ok(statSync(path.join(dir, 'dep_abcdefgh12.log')).size <= 1000)
  assert.ok(logs.read('dep_abcdefgh12').length <= 2000)
  assert.match(logs.read('dep_abcdefgh12'), /line 99/)
  logs.append('dep_abcdefgh12', 'y'.repeat(5000))
  assert.match(logs.read('dep_abcdefgh12'), /output cut/)
})

test('followers get appends until the end', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pal-logs-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const logs = new LogStore(dir, { capBytes: 1000 })
  const seen: string[] = []
  logs.subscribe('job_abcdefgh12', (e) => seen.push('text' in e ? e.text : '<end>'))
  logs.note('job_abcdefgh12', 'one')
  logs.end('job_abcdefgh12')
  logs.note('job_abcdefgh12', 'two')
  assert.deepEqual(seen, ['[palisade] one\n', '<end>'])
})

test('a key that is not an id never names a file (path traversal)', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pal-logs-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const logs = new LogStore(dir, { capBytes: 1000 })
  assert.throws(() => logs.append('../../etc/x', 'hi'), /bad log key/)
})
