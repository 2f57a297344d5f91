import assert from 'node:assert/strict'
import { test } from 'node:test'
import { base64View } from './base64-view.js'

const b64 = (s: string, alphabet: 'base64' | 'base64url' = 'base64'): string =>
  Buffer.from(s, 'utf8').toString(alphabet)

test('an injection hidden in Base64 is decoded (padded, unpadded, URL-safe, + read as a space)', () => {
  const sqli = "1' UNION SELECT password FROM users--"
  assert.equal(base64View(b64(sqli)), sqli)
  assert.equal(base64View(b64(sqli).replace(/=+$/, '')), sqli)
  const xss = '<svg/onload=alert(1)>?x=~~~'
  assert.equal(base64View(b64(xss, 'base64url')), xss)
  const plus = b64('<img src=x onerror=alert(document.domain)>/all')
  assert.ok(plus.includes('+'))
  assert.equal(base64View(plus.replace(/\+/g, ' ')), '<img src=x onerror=alert(document.domain)>/all')
})

test('tokens, binary data, words and plain prose are not decoded', () => {
  assert.equal(base64View('a3f9c2e1b7d84f6a9e0c1b2d3e4f5a6b'), undefined) // hex token: binary bytes
  assert.equal(base64View(Buffer.from([0, 1, 2, 250, 251, 252, 3, 4, 5]).toString('base64')), undefined)
  assert.equal(base64View('Administrator'), undefined)
  assert.equal(base64View(b64('hello world and more words')), undefined)
  assert.equal(base64View('short'), undefined)
  assert.equal(base64View('not base64 at all!'), undefined)
})

test('NUL bytes that split a keyword are left out of the decoded view', () => {
  const split = Buffer.from('<<scr\0ipt/src=http://xss.example/x.js></script', 'latin1').toString('base64')
  assert.equal(base64View(split), '<<script/src=http://xss.example/x.js></script')
  // other control bytes still mark binary data
  assert.equal(base64View(Buffer.from('<a\0b\x01c>', 'latin1').toString('base64')), undefined)
})
