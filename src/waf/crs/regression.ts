/**
 * The CRS 3.3.4 regression suite (FTW 1.3.0 YAML) run against the engine: requests are rebuilt the
 * way FTW built them, evaluated at the upstream test configuration (paranoia 4, thresholds 5/4,
 * DetectionOnly so every rule runs), and checked with log_contains / no_log_contains against a
 * ModSecurity-style log line per matched rule. Pure: files come through a WafSource.
 */
import { PALISADE_RULES } from './palisade-rules.js'
import { createRequire } from 'node:module'
import { WafConfigError } from '../errors.js'
import type { RuleSet } from '../engine/rule.js'
import type { WafRequest, WafSource } from '../engine/types.js'
import { createWaf, type Waf } from '../engine/waf.js'
import { loadRuleSet } from '../seclang/load.js'

export type CaseOutcome =
  { kind: 'pass' } | { kind: 'fail'; reason: string } | { kind: 'skip'; reason: string }

export interface RegressionCase {
  title: string
  file: string
  /** Rule file folder, e.g. REQUEST-942-APPLICATION-ATTACK-SQLI */
  folder: string
  input: Record<string, unknown>
  output: Record<string, unknown>
}

export interface RegressionFile {
  path: string
  folder: string
  name: string
  enabled: boolean
  cases: RegressionCase[]
}

/** Tests that cannot be run against an engine without an HTTP server, each with its reason. */
export const SKIPS: ReadonlyMap<string, string> = new Map([])

/** SecLang equivalent of the upstream test container's configuration (see crs-3.3.4/README.md). */
export function upstreamTestSetup(crsDir: string): string {
  return `SecRuleEngine DetectionOnly
SecRequestBodyAccess On
SecRequestBodyLimit 13107200
SecRequestBodyNoFilesLimit 131072
SecRequestBodyLimitAction Reject
SecResponseBodyAccess On
SecResponseBodyMimeType text/plain text/html text/xml application/json
SecResponseBodyLimit 524288
SecResponseBodyLimitAction ProcessPartial
SecRule REQUEST_HEADERS:Content-Type "(?:application(?:/soap\\+|/)|text/)xml" "id:'200000',phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML"
SecRule REQUEST_HEADERS:Content-Type "application/json" "id:'200001',phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRule REQBODY_ERROR "!@eq 0" "id:'200002', phase:2,t:none,log,deny,status:400,msg:'Failed to parse request body.',logdata:'%{reqbody_error_msg}',severity:2"
SecRule MULTIPART_STRICT_ERROR "!@eq 0" "id:'200003',phase:2,t:none,log,deny,status:400,msg:'Multipart request body failed strict validation'"
SecRule MULTIPART_UNMATCHED_BOUNDARY "@eq 1" "id:'200004',phase:2,t:none,log,deny,msg:'Multipart parser detected a possible unmatched boundary.'"
SecRule TX:/^MSC_/ "!@streq 0" "id:'200005',phase:2,t:none,deny,msg:'ModSecurity internal error flagged: %{MATCHED_VAR_NAME}'"
SecDefaultAction "phase:1,log,auditlog,pass"
SecDefaultAction "phase:2,log,auditlog,pass"
SecCollectionTimeout 600
SecAction "id:900000,phase:1,nolog,pass,t:none,setvar:tx.paranoia_level=4"
SecAction "id:900110,phase:1,nolog,pass,t:none,setvar:tx.inbound_anomaly_score_threshold=5,setvar:tx.outbound_anomaly_score_threshold=4"
SecAction "id:900350,phase:1,nolog,pass,t:none,setvar:tx.combined_file_sizes=65535"
SecAction "id:900990,phase:1,nolog,pass,t:none,setvar:tx.crs_setup_version=334"
Include ${crsDir.replace(/\/$/, '')}/rules/*.conf
`
}

export function upstreamTestRuleSet(crsDir: string, source: WafSource): RuleSet {
  return loadRuleSet({ text: upstreamTestSetup(crsDir), textName: '<crs-regression-setup>', source })
}

/**
 * The upstream test configuration with Palisade's rule set after CRS: what Palisade's own
 * regression tests (`src/waf/crs/testdata/palisade`, CRS YAML format) run against.
 */
export function palisadeTestRuleSet(crsDir: string, source: WafSource): RuleSet {
  return loadRuleSet({
    text: `${upstreamTestSetup(crsDir)}\n${PALISADE_RULES}\n`,
    textName: '<palisade-regression-setup>',
    source,
  })
}

export function loadRegressionFiles(testsDir: string, source: WafSource): RegressionFile[] {
  const files = source.listFiles(`${testsDir.replace(/\/$/, '')}/*/*.yaml`)
  return files.map((path) => {
    const parts = path.split('/')
    const name = parts[parts.length - 1]!
    const folder = parts[parts.length - 2]!
    let doc: { meta?: { enabled?: boolean }; tests?: Array<Record<string, unknown>> }
    try {
      // WafSource gives bytes as latin1 (right for rule files); the YAML is UTF-8 text.
      doc = loadYaml().parse(Buffer.from(source.readFile(path), 'latin1').toString('utf8')) as typeof doc
    } catch (cause) {
      throw new WafConfigError('PAL_WAF_REGRESSION_YAML', `cannot parse ${path}`, { file: path }, { cause })
    }
    const cases: RegressionCase[] = []
    for (const t of doc.tests ?? []) {
      const stages =
        (t['stages'] as Array<{
          stage: { input?: Record<string, unknown>; output?: Record<string, unknown> }
        }>) ?? []
      for (const s of stages) {
        cases.push({
          title: String(t['test_title']),
          file: name,
          folder,
          input: s.stage.input ?? {},
          output: s.stage.output ?? {},
        })
      }
    }
    return { path, folder, name, enabled: doc.meta?.enabled !== false, cases }
  })
}

// ---- FTW 1.3.0 request building ----

/** A scalar JSON/YAML value as text; anything else (objects, arrays, null) gives `fallback`. */
function text(v: unknown, fallback: string): string {
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v)
  return fallback
}

function utf8(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'utf8'))
}

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('latin1')
}

/** Python's urllib.parse.quote_plus (safe: letters, digits, `_.-~`). */
function quotePlus(s: string): string {
  let out = ''
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b)
    if (/[A-Za-z0-9_.~-]/.test(c)) out += c
    else if (c === ' ') out += '+'
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0')
  }
  return out
}

function unquote(s: string): string {
  return s.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)))
}

/** Python's parse_qsl (keep_blank_values=False) followed by urlencode. */
function reencodeForm(data: string): string {
  const pairs: Array<[string, string]> = []
  for (const piece of data.split(/[&;]/)) {
    if (piece === '') continue
    const eq = piece.indexOf('=')
    if (eq < 0) continue
    const k = piece.slice(0, eq).replace(/\+/g, ' ')
    const v = piece.slice(eq + 1).replace(/\+/g, ' ')
    if (v === '') continue
    pairs.push([k, v])
  }
  return pairs.map(([k, v]) => `${quotePlus(k)}=${quotePlus(v)}`).join('&')
}

function encodeBody(data: string, contentType: string | undefined): Uint8Array {
  const charset = /charset=([^;\s]+)/i.exec(contentType ?? '')?.[1]?.toLowerCase()
  if (charset === 'iso-8859-1' || charset === 'latin1' || charset === 'latin-1') {
    return new Uint8Array(Buffer.from(data, 'latin1'))
  }
  if (charset === 'utf-16' || charset === 'utf-16le')
    return new Uint8Array(Buffer.from('\ufeff' + data, 'utf16le'))
  return utf8(data)
}

/** Parses a raw HTTP/1.x request (for encoded_request / raw_request). */
export function parseRawRequest(bytes: Uint8Array): WafRequest | undefined {
  const text = latin1(bytes)
  let end = text.indexOf('\r\n\r\n')
  let sep = 4
  if (end < 0) {
    end = text.indexOf('\n\n')
    sep = 2
  }
  const head = end < 0 ? text : text.slice(0, end)
  const body = end < 0 ? '' : text.slice(end + sep)
  const lines = head.split(/\r?\n/)
  const requestLine = lines.shift() ?? ''
  const m = /^(\S+) (\S+)(?: (\S+))?$/.exec(requestLine)
  if (!m) return undefined
  const headers: Array<[string, string]> = []
  for (const l of lines) {
    const c = l.indexOf(':')
    if (c <= 0) return undefined
    headers.push([l.slice(0, c), l.slice(c + 1).trim()])
  }
  return {
    method: m[1]!,
    uri: m[2]!,
    protocol: m[3] ?? 'HTTP/1.0',
    headers,
    body: new Uint8Array(Buffer.from(body, 'latin1')),
    remoteAddr: '127.0.0.1',
    remotePort: 40000,
    serverName: 'localhost',
    serverPort: 80,
  }
}

/** Python's bytes.decode('unicode_escape') over UTF-8 bytes, as FTW applied it to raw_request. */
function unicodeEscape(bytes: Uint8Array): Uint8Array {
  const s = latin1(bytes)
  const out = s.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|[nrt\\'"0abfv])/g, (_, e: string) => {
    switch (e[0]) {
      case 'x':
      case 'u':
        return String.fromCharCode(parseInt(e.slice(1), 16))
      case 'n':
        return '\n'
      case 'r':
        return '\r'
      case 't':
        return '\t'
      case '0':
        return '\0'
      case 'a':
        return '\x07'
      case 'b':
        return '\b'
      case 'f':
        return '\f'
      case 'v':
        return '\v'
      default:
        return e
    }
  })
  // Each latin1 char is now a code point; UTF-8 encode it again (the double-encoding FTW did).
  return utf8(out)
}

/** Rebuilds the request FTW 1.3.0 would have sent for a structured test input. */
export function buildRequest(input: Record<string, unknown>): WafRequest | undefined {
  if (typeof input['encoded_request'] === 'string') {
    return parseRawRequest(new Uint8Array(Buffer.from(input['encoded_request'], 'base64')))
  }
  if (typeof input['raw_request'] === 'string') {
    return parseRawRequest(unicodeEscape(utf8(input['raw_request'])))
  }
  const method = text(input['method'], 'GET')
  const uri = text(input['uri'], '/')
  const version = text(input['version'], 'HTTP/1.1')
  const headerMap = (input['headers'] ?? {}) as Record<string, unknown>
  const headers: Array<[string, string]> = Object.entries(headerMap).map(([k, v]) => [k, text(v, '')])
  const rawData = input['data']
  // A list of lines is joined with CRLF (FTW).
  let data = Array.isArray(rawData) ? rawData.map((l) => text(l, '')).join('\r\n') : text(rawData, '')
  const find = (name: string): number => headers.findIndex(([k]) => k.toLowerCase() === name)
  let body: Uint8Array = new Uint8Array(0)
  if (data !== '') {
    if (input['stop_magic'] !== true) {
      if (find('content-type') < 0) headers.push(['Content-Type', 'application/x-www-form-urlencoded'])
      const ct = headers[find('content-type')]![1]
      if (ct === 'application/x-www-form-urlencoded' && unquote(data) === data) {
        // FTW keeps the data as is when parse_qsl finds no name=value pair in it.
        const encoded = reencodeForm(data)
        if (encoded !== '') data = encoded
      }
      body = encodeBody(data, ct)
      if (find('content-length') < 0) headers.push(['Content-Length', String(body.byteLength)])
    } else {
      body = encodeBody(data, headers[find('content-type')]?.[1])
    }
  }
  const b = (s: string): string => latin1(utf8(s))
  return {
    method: b(method),
    uri: b(uri),
    protocol: b(version),
    headers: headers.map(([k, v]) => [b(k), b(v)]),
    body,
    // The client address the web server saw; the tests' dest_addr is the server's.
    remoteAddr: '127.0.0.1',
    remotePort: 40000,
    serverName: 'localhost',
    serverPort: Number(input['port'] ?? 80),
  }
}

/**
 * What Apache does before ModSecurity sees a request that FTW sent: with `Transfer-Encoding: chunked`
 * it drops Content-Length and de-chunks the body.
 */
export function apacheView(req: WafRequest): WafRequest {
  const te = req.headers.find(([k]) => k.toLowerCase() === 'transfer-encoding')
  if (!te || !/chunked/i.test(te[1]) || !req.body) return req
  const text = latin1(req.body)
  let out = ''
  let p = 0
  for (;;) {
    const nl = text.indexOf('\r\n', p)
    if (nl < 0) break
    const size = Number.parseInt(text.slice(p, nl), 16)
    if (!Number.isFinite(size) || size <= 0) break
    out += text.slice(nl + 2, nl + 2 + size)
    p = nl + 2 + size + 2
  }
  return {
    ...req,
    headers: req.headers.filter(([k]) => k.toLowerCase() !== 'content-length'),
    body: new Uint8Array(Buffer.from(out, 'latin1')),
  }
}

/** ModSecurity-style error-log lines for a transaction's logged matches. */
export function logLines(waf: Waf, req: WafRequest): string[] {
  const tx = waf.newTransaction(req)
  tx.processRequestHeaders()
  tx.processRequestBody()
  tx.processLogging()
  return tx
    .matchedRules()
    .filter((m) => m.log)
    .map(
      (m) =>
        `ModSecurity: Warning. [id "${m.id}"] [msg "${m.msg}"] [data "${m.logdata}"] [severity "${m.severity ?? ''}"] ${m.tags.map((t) => `[tag "${t}"]`).join(' ')}`,
    )
}

export function runCase(waf: Waf, c: RegressionCase): CaseOutcome {
  const skip = SKIPS.get(c.title)
  if (skip) return { kind: 'skip', reason: skip }
  const out = c.output
  const logRe = typeof out['log_contains'] === 'string' ? out['log_contains'] : undefined
  const noLogRe = typeof out['no_log_contains'] === 'string' ? out['no_log_contains'] : undefined
  if (out['expect_error'] === true) {
    return {
      kind: 'skip',
      reason: 'expects the HTTP exchange to fail (a web-server connection error), not a WAF verdict',
    }
  }
  if (logRe === undefined && noLogRe === undefined) {
    return {
      kind: 'skip',
      reason:
        "checks only the web server's HTTP status for a request it refuses itself; upstream ran DetectionOnly, so the WAF never set it",
    }
  }
  const req = buildRequest(c.input)
  if (!req)
    return {
      kind: 'skip',
      reason: 'the raw request is not valid HTTP; the web server would refuse it before the WAF',
    }
  let lines: string[]
  try {
    lines = logLines(waf, apacheView(req))
  } catch (e) {
    return { kind: 'fail', reason: `engine threw: ${e instanceof Error ? e.message : String(e)}` }
  }
  if (logRe !== undefined && !lines.some((l) => new RegExp(logRe).test(l))) {
    return { kind: 'fail', reason: `log does not contain /${logRe}/; matched: ${ids(lines)}` }
  }
  if (noLogRe !== undefined && lines.some((l) => new RegExp(noLogRe).test(l))) {
    return { kind: 'fail', reason: `log contains /${noLogRe}/; matched: ${ids(lines)}` }
  }
  return { kind: 'pass' }
}

function ids(lines: string[]): string {
  return lines.map((l) => /\[id "(\d+)"\]/.exec(l)?.[1] ?? '?').join(',')
}

export interface FileResult {
  file: string
  folder: string
  enabled: boolean
  pass: number
  fail: number
  skip: number
  failures: Array<{ title: string; reason: string }>
  skips: Array<{ title: string; reason: string }>
}

export function runFile(waf: Waf, f: RegressionFile): FileResult {
  const r: FileResult = {
    file: f.name,
    folder: f.folder,
    enabled: f.enabled,
    pass: 0,
    fail: 0,
    skip: 0,
    failures: [],
    skips: [],
  }
  if (!f.enabled) return r
  for (const c of f.cases) {
    const o = runCase(waf, c)
    if (o.kind === 'pass') r.pass++
    else if (o.kind === 'fail') {
      r.fail++
      r.failures.push({ title: c.title, reason: o.reason })
    } else {
      r.skip++
      r.skips.push({ title: c.title, reason: o.reason })
    }
  }
  return r
}

export { createWaf }

/** The YAML parser, loaded when the regression suite runs (the edge never needs it). */
function loadYaml(): typeof import('yaml') {
  return createRequire(import.meta.url)('yaml') as typeof import('yaml')
}
