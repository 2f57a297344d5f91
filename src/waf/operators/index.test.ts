import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, test } from 'node:test'

import { WafConfigError } from '../errors.js'
import { findOperator, OPERATORS } from './index.js'
import type { OperatorCompileContext } from './operator.js'

interface Case {
  readonly name: string
  readonly operator: string
  readonly param: string
  readonly input: string
  readonly match: boolean
  readonly captures?: readonly string[]
}

const corpus = JSON.parse(readFileSync(new URL('./testdata/operators.json', import.meta.url), 'latin1')) as {
  cases: readonly Case[]
}

const ctx: OperatorCompileContext = {
  baseDir: '/nonexistent',
  readFile: (path) => {
    throw new Error(`unexpected read of ${path}`)
  },
}

test('the operator corpus loaded cases', () => {
  assert.ok(corpus.cases.length > 0)
})

describe('operator corpus', () => {
  for (const c of corpus.cases) {
    test(c.name, () => {
      const factory = findOperator(c.operator)
      assert.ok(factory, `@${c.operator} is registered`)
      const result = factory(c.param, ctx)(c.input)
      assert.equal(result !== null, c.match)
      if (c.captures !== undefined) assert.deepEqual(result?.captures, c.captures)
    })
  }
})

describe('findOperator', () => {
  test('finds names case-insensitively', () => {
    assert.equal(findOperator('RX'), OPERATORS.get('rx'))
    assert.equal(findOperator('pmfromfile'), OPERATORS.get('pmFromFile'))
    assert.equal(findOperator('detectsqli'), OPERATORS.get('detectSQLi'))
  })

  test('maps the aliases to the same factories', () => {
    assert.equal(findOperator('pmf'), OPERATORS.get('pmFromFile'))
    assert.equal(findOperator('ipMatchF'), OPERATORS.get('ipMatchFromFile'))
  })

  test('returns undefined for an unknown name', () => {
    assert.equal(findOperator('fuzzyHash'), undefined)
  })

  test('knows every operator CRS 3.3.4 uses except geoLookup and rbl', () => {
    for (const name of [
      'rx',
      'pm',
      'pmFromFile',
      'eq',
      'ge',
      'gt',
      'lt',
      'streq',
      'contains',
      'endsWith',
      'within',
      'ipMatch',
      'ipMatchFromFile',
      'validateByteRange',
      'validateUrlEncoding',
      'validateUtf8Encoding',
      'detectSQLi',
      'detectXSS',
    ])
      assert.ok(findOperator(name), name)
  })
})

describe('invalid parameters', () => {
  const bad: Array<[string, string]> = [
    ['rx', '(unclosed'],
    ['rx', 'a**+'],
    ['ipMatch', '300.1.1.1'],
    ['ipMatch', '10.0.0.0/33'],
    ['ipMatch', '::1/129'],
    ['ipMatch', '1.2.3'],
    ['ipMatch', ''],
    ['validateByteRange', '1-256'],
    ['validateByteRange', '20-10'],
    ['validateByteRange', 'a-b'],
    ['validateByteRange', ''],
    ['pm', ''],
    ['pm', 'a\\nb'],
  ]
  for (const [op, param] of bad) {
    test(`@${op} ${JSON.stringify(param)} is rejected with WafConfigError`, () => {
      assert.throws(() => findOperator(op)!(param, ctx), WafConfigError)
    })
  }
})

describe('every operator on hostile bytes', () => {
  const all = Array.from({ length: 256 }, (_, k) => String.fromCharCode(k)).join('')
  const params: Record<string, string> = {
    rx: '(?i)a.*b',
    pm: 'a b',
    eq: '1',
    ge: '1',
    gt: '1',
    le: '1',
    lt: '1',
    ipMatch: '127.0.0.1',
    validateByteRange: '32-126',
    isText: 'prose',
  }
  for (const [name, factory] of OPERATORS) {
    if (name === 'pmFromFile' || name === 'pmf' || name === 'ipMatchFromFile' || name === 'ipMatchF') continue
    test(`@${name} never throws on any byte value`, () => {
      const op = factory(params[name] ?? 'x', ctx)
      for (const input of ['', all, all.repeat(40), '%', '\xff\xfe', '::ffff:', '1'.repeat(400)]) {
        const r = op(input)
        assert.ok(r === null || Array.isArray(r.captures))
      }
    })
  }
})
