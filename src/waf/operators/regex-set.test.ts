import assert from 'node:assert/strict'
import { test } from 'node:test'
import RE2 from 're2'
import { createRegexSetPrefilter } from './regex-set.js'

const bytes = (s: string): Buffer => Buffer.from(s, 'utf8')

test('the RE2 set answers exactly what each pattern’s own test would, and caches per value', () => {
  const patterns = ['(?i)union\\s+select', '^\\d+$', '<script', 'a.b', '^$', '(?i)\\bon(?:load|error)\\s*=']
  const set = createRegexSetPrefilter()
  const ids = patterns.map((p) => set.register(p))
  assert.deepEqual(ids, [0, 1, 2, 3, 4, 5])
  const inputs = [
    '1 UNION  select x',
    '12345',
    '123\n',
    'a\nb',
    '',
    '<img onerror =x>',
    'plain text',
    'x'.repeat(10_000),
  ]
  let conversions = 0
  const utf8 = (s: string): Buffer => {
    conversions++
    return bytes(s)
  }
  for (const input of inputs) {
    for (const [i, p] of patterns.entries()) {
      assert.equal(
        set.matches(i, input, utf8),
        new RE2(p, 'sm').test(bytes(input)),
        `${p} on ${JSON.stringify(input.slice(0, 20))}`,
      )
    }
  }
  assert.equal(conversions, inputs.length, 'one scan per distinct value, shared by every pattern')
  assert.equal(set.register('late'), -1, 'patterns arriving after the first scan are not in the set')
  assert.equal(set.matches(-1, 'anything', utf8), undefined, 'outside the set: the caller tests on its own')
})

test('values beyond the cache budget are scanned again, never answered wrongly', () => {
  const set = createRegexSetPrefilter()
  set.register('needle')
  const big = (c: string): string => c.repeat(3 * 1024 * 1024) + 'needle'
  const a = big('a')
  const b = big('b')
  assert.equal(set.matches(0, a, bytes), true)
  assert.equal(set.matches(0, b, bytes), true)
  assert.equal(set.matches(0, a, bytes), true)
  assert.equal(set.matches(0, 'no match here', bytes), false)
})

test('patterns spread over several sets answer exactly, whichever set is asked first', () => {
  // 100 patterns: four sets. Each value is asked about in a different order, so its answer starts in
  // different sets, and answers without a hit turn into answers with one midway.
  const patterns = Array.from({ length: 100 }, (_, i) => (i % 7 === 0 ? `(?i)word${i}\\b` : `^${i}x|y${i}$`))
  const set = createRegexSetPrefilter()
  for (const p of patterns) set.register(p)
  const inputs = ['WORD14 here', 'y99', '3x', 'nothing', 'word7 and y50', '70x\ny71', '']
  const regexes = patterns.map((p) => new RE2(p, 'sm'))
  const scans = new Map<string, number>()
  const utf8 = (s: string): Buffer => {
    scans.set(s, (scans.get(s) ?? 0) + 1)
    return bytes(s)
  }
  for (const [n, input] of inputs.entries()) {
    const order = patterns.map((_, i) => (i * (n * 2 + 1) + n * 13) % patterns.length)
    for (const i of order) {
      assert.equal(set.matches(i, input, utf8), regexes[i]!.test(bytes(input)), `${patterns[i]} on ${input}`)
    }
    // Asked again: remembered.
    for (const i of order) assert.equal(set.matches(i, input, utf8), regexes[i]!.test(bytes(input)))
  }
  for (const input of inputs)
    assert.equal(scans.get(input), 4, `one scan per set for ${JSON.stringify(input)}`)
})

test('a set RE2 refuses leaves its patterns to their own regexes and the other sets answering', () => {
  const set = createRegexSetPrefilter()
  for (let i = 0; i < 32; i++) set.register(`ok${i}`)
  set.register('(unclosed')
  assert.equal(set.matches(5, 'ok5', bytes), true)
  assert.equal(set.matches(6, 'ok5', bytes), false)
  assert.equal(set.matches(32, 'ok5', bytes), undefined)
})
