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
        set.mayMatch(i, input, utf8),
        new RE2(p, 'sm').test(bytes(input)),
        `${p} on ${JSON.stringify(input.slice(0, 20))}`,
      )
    }
  }
  assert.equal(conversions, inputs.length, 'one scan per distinct value, shared by every pattern')
  assert.equal(set.register('late'), -1, 'patterns arriving after the first scan are not in the set')
  assert.equal(set.mayMatch(-1, 'anything', utf8), true, 'outside the set: the caller tests on its own')
})

test('values beyond the cache budget are scanned again, never answered wrongly', () => {
  const set = createRegexSetPrefilter()
  set.register('needle')
  const big = (c: string): string => c.repeat(3 * 1024 * 1024) + 'needle'
  const a = big('a')
  const b = big('b')
  assert.equal(set.mayMatch(0, a, bytes), true)
  assert.equal(set.mayMatch(0, b, bytes), true)
  assert.equal(set.mayMatch(0, a, bytes), true)
  assert.equal(set.mayMatch(0, 'no match here', bytes), false)
})
