import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { isAbsolute, join } from 'node:path'
import { test } from 'node:test'

import { WafConfigError } from '../errors.js'
import { findOperator } from './index.js'
import type { OperatorCompileContext } from './operator.js'
import { readPhraseFiles } from './pm-from-file.js'

function memoryContext(files: Record<string, string>): OperatorCompileContext {
  return {
    baseDir: '/rules',
    readFile: (path) => {
      const text = files[path]
      if (text === undefined) throw new Error(`ENOENT ${path}`)
      return text
    },
  }
}

test('reads one phrase per line and skips comments and blank lines', () => {
  const ctx = memoryContext({ 'a.data': '# comment\n\n  # indented comment\nnikto\r\nsql map\n   \n' })
  assert.deepEqual(readPhraseFiles('a.data', ctx), ['nikto', 'sql map'])
})

test('reads several files', () => {
  const ctx = memoryContext({ 'a.data': 'one\n', 'b.data': 'two\n' })
  const op = findOperator('pmFromFile')!('a.data b.data', ctx)
  assert.deepEqual(op('xxTWOxx')?.captures, ['two'])
  assert.equal(op('three'), null)
})

test('@pmf is the same operator', () => {
  const ctx = memoryContext({ 'a.data': 'one\n' })
  assert.ok(findOperator('pmf')!('a.data', ctx)('ONE'))
})

test('a file with only comments gives an operator that never matches', () => {
  const ctx = memoryContext({ 'a.data': '# nothing\n' })
  assert.equal(findOperator('pmFromFile')!('a.data', ctx)('anything'), null)
})

test('a missing file and a remote URL are configuration errors', () => {
  const ctx = memoryContext({})
  assert.throws(() => findOperator('pmFromFile')!('missing.data', ctx), WafConfigError)
  assert.throws(() => findOperator('pmFromFile')!('https://example.com/x.data', ctx), WafConfigError)
})

const CRS_RULES = '/usr/share/modsecurity-crs/rules'
test(
  'every CRS @pmFromFile data file loads and matches its own phrases',
  { skip: existsSync(CRS_RULES) ? false : `${CRS_RULES} is missing` },
  () => {
    const ctx: OperatorCompileContext = {
      baseDir: CRS_RULES,
      readFile: (path) => readFileSync(isAbsolute(path) ? path : join(CRS_RULES, path), 'latin1'),
    }
    const confs = [
      'REQUEST-913-SCANNER-DETECTION',
      'REQUEST-930-APPLICATION-ATTACK-LFI',
      'REQUEST-932-APPLICATION-ATTACK-RCE',
      'REQUEST-933-APPLICATION-ATTACK-PHP',
      'REQUEST-944-APPLICATION-ATTACK-JAVA',
      'REQUEST-920-PROTOCOL-ENFORCEMENT',
      'REQUEST-934-APPLICATION-ATTACK-NODEJS',
      'RESPONSE-950-DATA-LEAKAGES',
      'RESPONSE-951-DATA-LEAKAGES-SQL',
    ]
    const params = new Set<string>()
    for (const conf of confs) {
      const path = join(CRS_RULES, `${conf}.conf`)
      if (!existsSync(path)) continue
      for (const m of readFileSync(path, 'latin1').matchAll(/^[^#\n]*"!?@pmFromFile ([^"]+)"/gm))
        params.add(m[1]!)
    }
    assert.ok(params.size > 5, `found ${params.size} @pmFromFile rules`)
    for (const param of params) {
      const phrases = readPhraseFiles(param, ctx)
      assert.ok(phrases.length > 0, param)
      const op = findOperator('pmFromFile')!(param, ctx)
      for (const phrase of phrases) assert.ok(op(`<<${phrase}>>`), `${param}: ${phrase}`)
    }
  },
)
