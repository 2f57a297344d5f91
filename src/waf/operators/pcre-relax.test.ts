import assert from 'node:assert/strict'
import { test } from 'node:test'

import { relax } from './pcre-relax.js'

/** The relaxed pattern must match every input the original matches (it is a prefilter). */
function assertSuperset(pattern: string, inputs: readonly string[]): void {
  const original = new RegExp(pattern, 's')
  const relaxed = new RegExp(relax(pattern), 's')
  for (const input of inputs)
    if (original.test(input))
      assert.ok(relaxed.test(input), `${relax(pattern)} misses ${JSON.stringify(input)}`)
}

test('drops lookarounds', () => {
  assert.equal(relax('a(?=b)c(?!d)(?<=e)(?<!f)g'), 'a(?:)c(?:)(?:)(?:)g')
  assertSuperset('<\\?(?!xml)', ['<?php', '<?xml', '<?'])
})

test('replaces a backreference with a copy of its group', () => {
  assert.equal(relax('(a+)b\\1'), '(a+)b(?:a+)')
  assert.equal(relax('(x(y))\\1'), '(x(y))(?:x(?:y))')
  assertSuperset('\\b(\\w+)\\b\\s*=\\s*\\b\\1\\b', ['1=1', 'a = a', 'a=b', 'ab=ab'])
})

test('uses [\\s\\S]* for a reference to a group that is still open', () => {
  assert.equal(relax('(a\\1)'), '(a[\\s\\S]*)')
})

test('turns possessive quantifiers and atomic groups into greedy ones', () => {
  assert.equal(relax('a++b*+c?+d{2}+(?>e)'), 'a+b*c?d{2}(?:e)')
})

test('keeps a literal } followed by + as it is', () => {
  assert.equal(relax('a\\{}+'), 'a\\{}+')
})

test('leaves character classes alone', () => {
  assert.equal(relax('[(?=x)\\1]'), '[(?=x)\\1]')
})
