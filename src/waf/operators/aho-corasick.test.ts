import assert from 'node:assert/strict'
import { test } from 'node:test'

import { AhoCorasick } from './aho-corasick.js'

/** The reference answer: earliest end, then the longest pattern ending there. */
function naive(patterns: readonly string[], input: string): string | null {
  const hay = input.replace(/[A-Z]/g, (c) => c.toLowerCase())
  for (let end = 1; end <= hay.length; end++) {
    let best: string | null = null
    for (const p of patterns) {
      const lp = p.replace(/[A-Z]/g, (c) => c.toLowerCase())
      if (lp.length > 0 && lp.length <= end && hay.slice(end - lp.length, end) === lp)
        if (best === null || p.length > best.length) best = p
    }
    if (best !== null) return best
  }
  return null
}

test('finds overlapping patterns in scan order', () => {
  const ac = new AhoCorasick(['he', 'she', 'his', 'hers'])
  assert.deepEqual(ac.find('ushers'), { pattern: 1, end: 4 })
  assert.equal(ac.find('xyz'), null)
})

test('folds ASCII letters only', () => {
  const ac = new AhoCorasick(['ABC', '\xe9'])
  assert.deepEqual(ac.find('xaBc'), { pattern: 0, end: 4 })
  assert.equal(ac.find('\xc9'), null)
})

test('ignores empty patterns and handles an empty list', () => {
  assert.equal(new AhoCorasick(['']).find('abc'), null)
  assert.equal(new AhoCorasick([]).find('abc'), null)
})

test('agrees with a naive search on random inputs', () => {
  // A fixed linear congruential generator keeps the test deterministic.
  let seed = 42
  const next = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648
    return seed % n
  }
  const alphabet = 'abAB\x00\xff/'
  const word = (max: number): string =>
    Array.from({ length: 1 + next(max) }, () => alphabet[next(alphabet.length)]!).join('')
  for (let round = 0; round < 300; round++) {
    const patterns = Array.from({ length: 1 + next(6) }, () => word(4))
    const input = word(30)
    const hit = new AhoCorasick(patterns).find(input)
    const expected = naive(patterns, input)
    assert.equal(
      hit === null ? null : patterns[hit.pattern]!.length,
      expected?.length ?? null,
      `${patterns.join(',')} / ${input}`,
    )
  }
})
