import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { fingerprintOf } from './detect.js'
import { foldSql } from './fold.js'
import { tokenizeSql } from './tokenizer.js'
import type { SqlContext } from './tokenizer.js'

const shape = (input: string, context: SqlContext = ''): string => {
  const { tokens } = tokenizeSql(input, context, 48)
  return tokens.map((t) => t.type).join('')
}
const folded = (input: string, context: SqlContext = ''): string =>
  fingerprintOf(foldSql(tokenizeSql(input, context, 48).tokens))

describe('tokenizeSql', () => {
  test('reads strings in every quoting style, with backslash and doubled-quote escapes', () => {
    assert.equal(shape(`'a\\'b' "c""d" \`e\``), 'ssn')
    assert.equal(shape("N'x' X'41' _utf8'y'"), 'sss')
  })

  test('starts inside a string in the quote contexts', () => {
    assert.equal(shape("x' OR 1", "'"), 's&1')
    assert.equal(shape('x" OR 1', '"'), 's&1')
    assert.equal(shape("x' OR 1", '"'), 's')
  })

  test('reports an unterminated string as not closed', () => {
    const { tokens } = tokenizeSql("'abc", '', 10)
    assert.equal(tokens[0]?.closed, false)
  })

  test('reads decimal, hex, binary and exponent numbers, and stops at a letter', () => {
    assert.equal(shape('1 0x1F 0b101 1.5e-3 .5'), '11111')
    assert.equal(shape('1union'), '1U')
    assert.equal(shape('10.to_i'), '1n')
  })

  test('reads line comments and unterminated block comments, and skips closed ones', () => {
    assert.equal(shape('1 -- x\n2 # y\n3 /* z */ 4 /* w'), '1c1c11c')
  })

  test('reads the body of a MySQL executable comment as SQL', () => {
    assert.equal(shape('/*!50000UNION*/ /*!SELECT*/ 1'), 'UE1')
  })

  test('reads variables, words, keywords and operators', () => {
    assert.equal(shape("@a @@version @'q' a.b = <=> || && ! ;"), 'vvvn.noo&&o;')
    assert.equal(shape('SELECT x FROM t WHERE a LIKE b AND c'), 'Enknknon&n')
  })

  test('stops after maxTokens and says so', () => {
    const r = tokenizeSql('1 '.repeat(100), '', 10)
    assert.equal(r.tokens.length, 10)
    assert.equal(r.truncated, true)
  })
})

describe('foldSql', () => {
  test('joins qualified names and two-word forms', () => {
    assert.equal(folded('master..xp_cmdshell'), 'n')
    assert.equal(folded('UNION ALL SELECT'), 'UE')
    assert.equal(folded('ORDER BY 1'), 'k1')
    assert.equal(folded("WAITFOR DELAY '0:0:5'"), 'Es')
    assert.equal(folded('a NOT LIKE b'), 'non')
  })

  test('marks a known function followed by ( and drops unary operators', () => {
    assert.equal(folded('sleep(5)'), 'f(1)')
    assert.equal(folded('sleep 5'), 'n1')
    assert.equal(folded('1 = -1'), '1o1')
    assert.equal(folded('NOT 1'), '1')
  })

  test('joins adjacent strings', () => {
    assert.equal(folded("'a' 'b'"), 's')
  })
})
