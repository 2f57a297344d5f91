import assert from 'node:assert/strict'
import { test } from 'node:test'
import { checkRequestTarget } from './request-target.js'

test('origin-form targets with one Host pass unchanged', () => {
  assert.deepEqual(checkRequestTarget('/a?b=1', ['Host', 'p.localhost'], '1.1'), { ok: true, path: '/a?b=1' })
  assert.deepEqual(checkRequestTarget('*', ['Host', 'p.localhost'], '1.1'), { ok: true, path: '*' })
})

test('two Host headers are refused (host confusion)', () => {
  const r = checkRequestTarget('/', ['Host', 'p.localhost', 'host', 'q.localhost'], '1.1')
  assert.deepEqual(r, { ok: false, reason: 'duplicate_host' })
  // even when both say the same thing: there is no reason to send two
  assert.equal(checkRequestTarget('/', ['Host', 'p.localhost', 'HOST', 'p.localhost'], '1.1').ok, false)
})

test('HTTP/1.1 without Host is refused; HTTP/1.0 may omit it', () => {
  assert.deepEqual(checkRequestTarget('/', [], '1.1'), { ok: false, reason: 'missing_host' })
  assert.deepEqual(checkRequestTarget('/', [], '1.0'), { ok: true, path: '/' })
})

test('an absolute-form target must name the Host and is rewritten to origin form', () => {
  assert.deepEqual(checkRequestTarget('http://P.localhost:8000/x?y=1', ['Host', 'p.localhost'], '1.1'), {
    ok: true,
    path: '/x?y=1',
  })
  assert.deepEqual(checkRequestTarget('https://p.localhost', ['Host', 'p.localhost'], '1.1'), {
    ok: true,
    path: '/',
  })
  assert.deepEqual(checkRequestTarget('http://p.localhost?q', ['Host', 'p.localhost'], '1.1'), {
    ok: true,
    path: '/?q',
  })
})

test('an absolute-form target naming another host, userinfo or a strange scheme is refused (smuggled authority)', () => {
  assert.deepEqual(checkRequestTarget('http://other.example/x', ['Host', 'p.localhost'], '1.1'), {
    ok: false,
    reason: 'authority_mismatch',
  })
  assert.deepEqual(checkRequestTarget('http://p.localhost@other.example/', ['Host', 'p.localhost'], '1.1'), {
    ok: false,
    reason: 'bad_target',
  })
  assert.equal(checkRequestTarget('ftp://p.localhost/', ['Host', 'p.localhost'], '1.1').ok, false)
  assert.equal(checkRequestTarget('p.localhost:80', ['Host', 'p.localhost'], '1.1').ok, false)
  assert.equal(checkRequestTarget('http://[::1]/', ['Host', '[::1]'], '1.1').ok, false)
})
