import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isSecretName, isTokenLike, MASK, maskForm, maskUrl, maskValues } from './mask.js'

// The masking as it was before its fast paths (split, map and join on every log line), kept here as the
// reference the faster code must agree with, character for character.
function decode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '))
  } catch {
    return text
  }
}

function referencePath(path: string): string {
  return path
    .split('/')
    .map((segment) => {
      const semi = segment.indexOf(';')
      const base = semi === -1 ? segment : segment.slice(0, semi)
      let out = isTokenLike(decode(base)) ? MASK : base
      if (semi !== -1) {
        out += segment
          .slice(semi)
          .split(';')
          .slice(1)
          .map((param) => {
            const eq = param.indexOf('=')
            if (eq === -1) return `;${param}`
            const name = param.slice(0, eq)
            return isSecretName(decode(name)) || isTokenLike(decode(param.slice(eq + 1)))
              ? `;${name}=${MASK}`
              : `;${param}`
          })
          .join('')
      }
      return out
    })
    .join('/')
}

function referenceForm(query: string): string {
  return query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=')
      if (eq === -1) return pair
      const rawName = pair.slice(0, eq)
      if (isSecretName(decode(rawName)) || isTokenLike(decode(pair.slice(eq + 1))))
        return `${rawName}=${MASK}`
      return pair
    })
    .join('&')
}

function referenceValues(text: string, secrets: Iterable<string> | undefined): string {
  if (!secrets) return text
  let out = text
  for (const value of secrets) {
    if (value.length < 6) continue
    for (const form of new Set([
      value,
      encodeURIComponent(value),
      encodeURIComponent(value).replace(/%20/g, '+'),
    ]))
      if (out.includes(form)) out = out.split(form).join(MASK)
  }
  return out
}

function referenceUrl(target: string, secrets?: Iterable<string>): string {
  const hashAt = target.indexOf('#')
  const noFragment = hashAt === -1 ? target : target.slice(0, hashAt)
  const q = noFragment.indexOf('?')
  const before = q === -1 ? noFragment : noFragment.slice(0, q)
  const origin = /^[a-z][a-z0-9+.-]*:\/\/[^/]*/i.exec(before)?.[0] ?? ''
  let out = origin + referencePath(before.slice(origin.length))
  if (q !== -1) out += `?${referenceForm(noFragment.slice(q + 1))}`
  return referenceValues(out, secrets)
}

/** A small deterministic generator (xorshift), so a failure names its seed. */
function rng(seed: number): () => number {
  let x = seed | 1
  return () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) / 4294967296
  }
}

const PIECES = [
  'a',
  'Z',
  '0',
  '9',
  '-',
  '_',
  '.',
  '~',
  '+',
  '%',
  '%2',
  '%41',
  '%zz',
  '%E2%82%AC',
  '%5B',
  '%5D',
  '[',
  ']',
  ';',
  '=',
  '&',
  '/',
  '?',
  '#',
  ' ',
  'é',
  '中',
  'password',
  'token',
  'Token',
  'api_key',
  'newPassword',
  'page',
  'q',
  'session',
  'eyJhbGciOiJIUzI1NiJ9',
  'deadbeefcafe0123',
  '3f9a1c',
  'app.3f9a1c.js',
  'AbCdEf123456XyZ9',
  'https://',
  'x.example',
  'jsessionid',
  'hunter2secret',
  'hunter2%20secret',
  'hunter2+secret',
  'hunter2 secret',
]

function generate(next: () => number): string {
  const n = Math.floor(next() * 24)
  let out = next() < 0.8 ? '/' : ''
  for (let i = 0; i < n; i++) out += PIECES[Math.floor(next() * PIECES.length)] as string
  return out
}

test('the fast masking gives exactly what the reference gives, on 20 000 generated targets', () => {
  const next = rng(20261207)
  const secrets = ['hunter2secret', 'hunter2 secret', 'short', 'deadbeefcafe0123']
  for (let i = 0; i < 20_000; i++) {
    const target = generate(next)
    assert.equal(maskUrl(target), referenceUrl(target), `maskUrl(${JSON.stringify(target)})`)
    assert.equal(
      maskUrl(target, secrets),
      referenceUrl(target, secrets),
      `maskUrl(${JSON.stringify(target)}, secrets)`,
    )
    assert.equal(maskForm(target), referenceForm(target), `maskForm(${JSON.stringify(target)})`)
    assert.equal(maskValues(target, secrets), referenceValues(target, secrets))
  }
})

test('the fast masking agrees with the reference on the benchmark mix and on edge cases', () => {
  const cases = [
    '',
    '/',
    '?',
    '?&',
    '/a?=x',
    '/a?&&b=1&&',
    '/a?password',
    '/a?password=',
    '/a?page=1&password=secret&q=x',
    '/products?category=blue&page=3&sort=price-asc',
    '/search?q=blue+red+shoes&size=40&in_stock=1',
    '/static/app.3f9a1c.js',
    '/api/orders/100001?include=items,shipping',
    '/reset/AbCdEf123456XyZ9AbCd',
    '/a;jsessionid=ABC/b',
    '/x;v=1;token=abc',
    'https://x.example/reset/AbCdEf123456XyZ9AbCd?token=1#frag',
    `/a?${'n'.repeat(70)}=1&${'password'.repeat(9)}=2`,
  ]
  for (const c of cases) {
    assert.equal(maskUrl(c), referenceUrl(c), c)
    assert.equal(maskForm(c), referenceForm(c), c)
  }
})

test('the remembered secret-name answers stay right when many distinct names go past', () => {
  for (let i = 0; i < 3000; i++) {
    const name = i % 3 === 0 ? `user${i}[password]` : `field${i}`
    assert.equal(maskForm(`${name}=v`), referenceForm(`${name}=v`))
  }
  assert.equal(maskForm('password=1&page=2'), 'password=***&page=2')
})
