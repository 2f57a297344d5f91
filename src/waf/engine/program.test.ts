import assert from 'node:assert/strict'
import { test } from 'node:test'
import { findVariable, parseSelectors } from '../variables/index.js'
import { TargetStep } from './program.js'
import { sha1 } from '../transforms/sha1.js'
import { createHash } from 'node:crypto'

function target(text: string): TargetStep {
  const sel = parseSelectors(text, (n) => findVariable(n) !== undefined)[0]!
  return new TargetStep(sel, findVariable(sel.variable)!, [])
}

test('a selector regex that is a plain ^prefix matches exactly the keys the regex matches', () => {
  const keys = [
    'header_name_x-a',
    'HEADER_NAME_',
    'header_nam',
    'xheader_name_a',
    '',
    'Header_Name_Cookie',
    'h',
  ]
  for (const text of [
    'TX:/^header_name_/',
    'ARGS:/^Header_Name_/',
    'ARGS:/header_name_/',
    'ARGS:/^h.a/',
    'ARGS:/NAME/',
  ]) {
    const t = target(text)
    for (const key of keys) assert.equal(t.keyMatches!(key), t.keyRegex!.test(key), `${text} on ${key}`)
  }
})

test("a rule's own exclusions cover exactly the keys the selector names", () => {
  const sel = parseSelectors(
    'REQUEST_COOKIES|!REQUEST_COOKIES:/__utm/|!REQUEST_COOKIES:Session',
    (n) => findVariable(n) !== undefined,
  )
  const t = new TargetStep(sel[0]!, findVariable('REQUEST_COOKIES')!, sel.slice(1))
  const covered = (key: string): boolean => t.excludeTests.some((covers) => covers(key))
  assert.ok(covered('__utma') && covered('x__UTMz') && covered('SESSION') && covered('session'))
  assert.ok(!covered('__ut') && !covered('sessions') && !covered('theme'))
})

test('sha1 gives the same digest whether it computed or remembered it', () => {
  const expected = createHash('sha1').update('Mozilla/5.0', 'latin1').digest().toString('latin1')
  assert.equal(sha1('Mozilla/5.0'), expected)
  assert.equal(sha1('Mozilla/5.0'), expected)
  for (let i = 0; i < 600; i++) sha1(`agent ${i}`)
  assert.equal(sha1('Mozilla/5.0'), expected)
})
