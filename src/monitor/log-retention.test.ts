import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { pruneOldLogs } from './log-retention.js'

test('logs past their age are removed, the serving release keeps its log, links and other files are left', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'palisade-logs-'))
  try {
    const now = Date.parse('2026-12-07T10:00:00Z')
    const old = new Date(now - 40 * 86_400_000)
    const files = [
      'dep_aaaaaaaaaaaa.log',
      'dep_aaaaaaaaaaaa.1.log',
      'dep_bbbbbbbbbbbb.log',
      'job_cccccccccccc.log',
      'notes.txt',
    ]
    for (const f of files) {
      writeFileSync(path.join(dir, f), 'x')
      utimesSync(path.join(dir, f), old, old)
    }
    writeFileSync(path.join(dir, 'dep_dddddddddddd.log'), 'recent')
    mkdirSync(path.join(dir, 'target'))
    symlinkSync(path.join(dir, 'target'), path.join(dir, 'dep_eeeeeeeeeeee.log'))
    const removed = pruneOldLogs(dir, new Set(['dep_bbbbbbbbbbbb']), now, 30)
    assert.equal(removed, 3)
    assert.ok(
      !existsSync(path.join(dir, 'dep_aaaaaaaaaaaa.log')) &&
        !existsSync(path.join(dir, 'dep_aaaaaaaaaaaa.1.log')),
    )
    assert.ok(!existsSync(path.join(dir, 'job_cccccccccccc.log')))
    for (const kept of [
      'dep_bbbbbbbbbbbb.log',
      'dep_dddddddddddd.log',
      'notes.txt',
      'dep_eeeeeeeeeeee.log',
      'target',
    ])
      assert.ok(existsSync(path.join(dir, kept)), kept)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
