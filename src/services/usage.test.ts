import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { directoryBytes } from './usage.js'

test('counts regular files at every depth and never follows a link', (t) => {
  const root = mkdtempSync(path.join(tmpdir(), 'usage-'))
  t.after(() => rmSync(root, { recursive: true, force: true }))
  const tree = path.join(root, 'tree')
  const outside = path.join(root, 'outside')
  mkdirSync(path.join(tree, 'a', 'b'), { recursive: true })
  mkdirSync(outside)
  writeFileSync(path.join(tree, 'top'), 'x'.repeat(10))
  writeFileSync(path.join(tree, 'a', 'b', 'deep'), 'y'.repeat(5))
  writeFileSync(path.join(outside, 'big'), 'z'.repeat(1000))
  symlinkSync(outside, path.join(tree, 'a', 'link-to-dir'))
  symlinkSync(path.join(outside, 'big'), path.join(tree, 'link-to-file'))
  assert.equal(directoryBytes(tree), 15)
  // The tree itself replaced by a link: nothing is counted.
  const swapped = path.join(root, 'swapped')
  symlinkSync(outside, swapped)
  assert.equal(directoryBytes(swapped), 0)
  assert.equal(directoryBytes(path.join(root, 'missing')), 0)
})
