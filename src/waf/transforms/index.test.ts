import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'

import { findTransform, TRANSFORMS } from './index.js'

interface Case {
  readonly name: string
  readonly input: string
  readonly output: string
}
interface Corpus {
  readonly transform: string
  readonly cases: readonly Case[]
}

const dir = join(fileURLToPath(new URL('.', import.meta.url)), 'testdata')
const corpora: Corpus[] = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(join(dir, f), 'latin1')) as Corpus)

const hex = (s: string): string => Buffer.from(s, 'latin1').toString('hex')

test('the transformation corpus loaded cases for every registered transformation', () => {
  assert.ok(corpora.reduce((n, c) => n + c.cases.length, 0) > 0)
  const covered = new Set(corpora.filter((c) => c.cases.length > 0).map((c) => c.transform))
  for (const name of TRANSFORMS.keys()) {
    if (name === 'normalizePath' || name === 'normalizePathWin') continue // aliases
    assert.ok(covered.has(name), `no cases for ${name}`)
  }
})

for (const corpus of corpora) {
  describe(corpus.transform, () => {
    const fn = TRANSFORMS.get(corpus.transform)
    for (const c of corpus.cases) {
      test(c.name, () => {
        assert.ok(fn, `${corpus.transform} is registered`)
        // Compare as hex so a failing byte is visible even when it is unprintable.
        assert.equal(hex(fn(c.input)), hex(c.output))
      })
    }
  })
}

describe('findTransform', () => {
  test('finds names case-insensitively', () => {
    assert.equal(findTransform('base64decode'), TRANSFORMS.get('base64Decode'))
    assert.equal(findTransform('URLDECODEUNI'), TRANSFORMS.get('urlDecodeUni'))
  })

  test('maps the American spellings to the same functions', () => {
    assert.equal(findTransform('normalizePath'), TRANSFORMS.get('normalisePath'))
    assert.equal(findTransform('normalizePathWin'), TRANSFORMS.get('normalisePathWin'))
  })

  test('returns undefined for an unknown name', () => {
    assert.equal(findTransform('rot13'), undefined)
  })

  test('knows every transformation CRS 3.3.4 uses', () => {
    for (const name of [
      'none',
      'urlDecodeUni',
      'lowercase',
      'htmlEntityDecode',
      'utf8toUnicode',
      'removeNulls',
      'jsDecode',
      'cssDecode',
      'cmdLine',
      'urlDecode',
      'compressWhitespace',
      'removeWhitespace',
      'normalisePath',
      'sha1',
      'replaceComments',
      'normalizePathWin',
      'normalizePath',
      'length',
      'hexEncode',
      'base64decode',
    ])
      assert.ok(findTransform(name), name)
  })
})

describe('every transformation on hostile bytes', () => {
  const all = Array.from({ length: 256 }, (_, k) => String.fromCharCode(k)).join('')
  const noisy = ('%u%%2\\x\\u&#x;&#/*<!--\\0' + all).repeat(64)
  for (const [name, fn] of TRANSFORMS) {
    test(`${name} returns a byte string for every byte value and never throws`, () => {
      for (const input of ['', all, noisy, '\\', '%', '&', '&#', '&#x', '/*', '<!--', '0x']) {
        const out = fn(input)
        assert.equal(typeof out, 'string')
        assert.ok(!/[^\x00-\xff]/.test(out), `${name} produced a code unit above 0xff`)
      }
    })
  }
})
