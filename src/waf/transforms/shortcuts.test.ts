import assert from 'node:assert/strict'
import { test } from 'node:test'
import { cmdLine, cmdLineBytes } from './cmd-line.js'
import { normalisePath, normalisePathBytes } from './normalise-path.js'
import { normalisePathWin } from './normalise-path-win.js'

/** Deterministic pseudo-random strings over `alphabet` (a fixed seed: a failure is reproducible). */
function* samples(alphabet: string, count: number, maxLength: number): Generator<string> {
  let seed = 0x2545f491
  const next = (): number => {
    seed ^= seed << 13
    seed ^= seed >>> 17
    seed ^= seed << 5
    return (seed >>> 0) / 0x100000000
  }
  for (let n = 0; n < count; n++) {
    let s = ''
    const len = Math.floor(next() * maxLength)
    for (let k = 0; k < len; k++) s += alphabet[Math.floor(next() * alphabet.length)]
    yield s
  }
}

test('cmdLine: the unchanged-input shortcut gives what the full transformation gives', () => {
  let shortcuts = 0
  for (const s of samples('abcXYZ09 \t\r\n,;\'"\\^/(.-_é\u00ff', 20000, 12)) {
    assert.equal(cmdLine(s), cmdLineBytes(s), JSON.stringify(s))
    if (cmdLine(s) === s) shortcuts++
  }
  assert.ok(shortcuts > 100, 'the samples include inputs the shortcut returns as they are')
})

test('normalisePath and normalisePathWin: the shortcut gives what the state machine gives', () => {
  for (const s of samples('/./\\ab', 50000, 10)) {
    assert.equal(normalisePath(s), normalisePathBytes(s, false), JSON.stringify(s))
    assert.equal(normalisePathWin(s), normalisePathBytes(s, true), JSON.stringify(s))
  }
})
