/**
 * ReDoS / CPU-exhaustion: 100 KB crafted inputs through every CRS rule (paranoia 4) in every place a
 * rule looks (query, headers, cookies, form, JSON, XML and multipart bodies). The test's timeout is
 * the bound; the time taken is reported as a diagnostic, not asserted (no wall-clock asserts).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  createWaf,
  crsRuleSet,
  DEFAULT_WAF_SETTINGS,
  evaluateRequest,
  type WafRequest,
} from '../src/waf/index.js'
import { CRS_RULES_DIR, crsAvailable } from './waf/crs-paths.js'
import { createFsSource } from './waf/fs-source.js'

const SIZE = 100 * 1024

function fill(unit: string): string {
  return unit.repeat(Math.ceil(SIZE / unit.length)).slice(0, SIZE)
}

const payloads: Record<string, string> = {
  'one letter repeated': fill('a'),
  'quotes and parentheses': fill(`'"()`),
  'nested brackets': fill('(((((') + fill(')))))').slice(0, 1000),
  'SQL keywords with comments': fill('select/**/union/**/or 1=1-- '),
  'unclosed tags': fill('<a <script <img src=x '),
  'path traversal': fill('../'),
  'percent signs': fill('%'),
  'backslashes and spaces': fill('\\ \t'),
  'shell metacharacters': fill(';|&`$('),
  'high bytes': fill('\xc3\xa9\xff\x80'),
  'long word then a symbol': fill('x') + '(',
  'alternating whitespace and words': fill('a \t\n'),
}

function requests(p: string): Array<[string, WafRequest]> {
  const base = { protocol: 'HTTP/1.1', remoteAddr: '198.51.100.9' }
  const headers: Array<[string, string]> = [
    ['Host', 'example.com'],
    ['User-Agent', 'Mozilla/5.0'],
    ['Accept', '*/*'],
  ]
  const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'))
  const post = (type: string, body: string): WafRequest => ({
    ...base,
    method: 'POST',
    uri: '/submit',
    headers: [...headers, ['Content-Type', type], ['Content-Length', String(body.length)]],
    body: bytes(body),
  })
  const q = encodeURIComponent(p.slice(0, SIZE / 3))
  return [
    ['query', { ...base, method: 'GET', uri: `/search?q=${q}`, headers }],
    [
      'header and cookie',
      { ...base, method: 'GET', uri: '/', headers: [...headers, ['Referer', p], ['Cookie', `c=${p}`]] },
    ],
    ['form body', post('application/x-www-form-urlencoded', `a=${p}`)],
    ['JSON body', post('application/json', JSON.stringify({ a: p }))],
    ['XML body', post('text/xml', `<a>${p.replace(/[<&]/g, ' ')}</a>`)],
    [
      'multipart body',
      post(
        'multipart/form-data; boundary=XX',
        `--XX\r\nContent-Disposition: form-data; name="f"\r\n\r\n${p}\r\n--XX--\r\n`,
      ),
    ],
  ]
}

const available = crsAvailable()
test(
  '100 KB hostile inputs through every CRS rule finish in bounded time',
  { skip: available.ok ? false : available.why, timeout: 300_000 },
  (t) => {
    const waf = createWaf(
      crsRuleSet(CRS_RULES_DIR, { ...DEFAULT_WAF_SETTINGS, paranoia: 4 }, createFsSource()),
    )
    let evaluated = 0
    const started = performance.now()
    for (const [name, p] of Object.entries(payloads)) {
      const t0 = performance.now()
      for (const [where, req] of requests(p)) {
        const v = evaluateRequest(waf, req)
        assert.ok(v.action === 'block' || v.action === 'allow', `${name} in ${where}`)
        evaluated++
      }
      t.diagnostic(`${name}: ${(performance.now() - t0).toFixed(0)} ms for ${requests(p).length} requests`)
    }
    assert.equal(evaluated, Object.keys(payloads).length * 6)
    t.diagnostic(`total ${(performance.now() - started).toFixed(0)} ms for ${evaluated} requests of 100 KB`)
  },
)
