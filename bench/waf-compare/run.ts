/**
 * Verdicts of Palisade's WAF engine vs nginx + ModSecurity v3 (libmodsecurity3), both running the
 * OWASP CRS 3.3.4 at paranoia 1 in blocking mode, on the requests of the CRS regression suite.
 *
 * Run: node --import tsx bench/waf-compare/run.ts [--limit N] [--same-policy]
 *   --limit N        number of regression stages (default 800); picked round-robin over the enabled
 *                    YAML files (1st test of every file, then the 2nd, ...) so every rule file is covered,
 *                    then run in file order.
 *   --same-policy    give nginx Palisade's allowed methods / content types (900200, 900220) and its
 *                    multipart rules 200003/200004, so only engine differences remain.
 * Needs nginx and libnginx-mod-http-modsecurity (Debian). Uses 127.0.0.1 only, free ports, a temp dir.
 * Writes bench/results/waf-compare.json.
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createFsWafSource } from '../../src/edge/index.js'
import { freePort } from '../../test/support/processes.js'
import { CRS_TESTS_DIR } from '../../test/waf/crs-paths.js'
import {
  apacheView,
  buildRequest,
  loadRegressionFiles,
  parseRawRequest,
  type RegressionCase,
} from '../../src/waf/crs/regression.js'
import {
  createWaf,
  crsRuleSet,
  DEFAULT_WAF_SETTINGS,
  evaluateRequest,
  type WafRequest,
} from '../../src/waf/index.js'

const CRS_DIR = process.env['PALISADE_CRS_DIR'] ?? '/usr/share/modsecurity-crs'
const TESTS_DIR = process.env['CRS_TESTS_DIR'] ?? CRS_TESTS_DIR
const MODULE = '/usr/lib/nginx/modules/ngx_http_modsecurity_module.so'
const UPSTREAM_MARK = 'palisade-waf-compare-upstream'
const RESULTS = new URL('../results/waf-compare.json', import.meta.url)

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name)
  return i >= 0 ? process.argv[i + 1] : undefined
}
const limit = Number(argValue('--limit') ?? 800)
const samePolicy = process.argv.includes('--same-policy')
if (!Number.isInteger(limit) || limit < 1) throw new Error('--limit must be a positive integer')

// ---- the sample ----

interface Sample {
  id: string
  case: RegressionCase
  /** Bytes on the wire. */
  wire: Buffer
  /** What the engine evaluates (the same request, de-chunked as the web server does). */
  request: WafRequest | undefined
}

/** Python's bytes.decode('unicode_escape') over UTF-8 bytes, then UTF-8 again (FTW's raw_request). */
function unicodeEscape(s: string): Buffer {
  const l1 = Buffer.from(s, 'utf8').toString('latin1')
  const out = l1.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|[nrt\\'"0abfv])/g, (_, e: string) => {
    const map: Record<string, string> = {
      n: '\n',
      r: '\r',
      t: '\t',
      '0': '\0',
      a: '\x07',
      b: '\b',
      f: '\f',
      v: '\v',
    }
    if (e[0] === 'x' || e[0] === 'u') return String.fromCharCode(parseInt(e.slice(1), 16))
    return map[e] ?? e
  })
  return Buffer.from(out, 'utf8')
}

function serialize(req: WafRequest): Buffer {
  const head =
    `${req.method} ${req.uri} ${req.protocol}\r\n` +
    req.headers.map(([k, v]) => `${k}: ${v}\r\n`).join('') +
    '\r\n'
  return Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from(req.body ?? new Uint8Array(0))])
}

function makeSample(c: RegressionCase): Sample {
  const input = c.input
  if (typeof input['encoded_request'] === 'string') {
    const wire = Buffer.from(input['encoded_request'], 'base64')
    const req = parseRawRequest(new Uint8Array(wire))
    return { id: c.title, case: c, wire, request: req && apacheView(req) }
  }
  if (typeof input['raw_request'] === 'string') {
    const wire = unicodeEscape(input['raw_request'])
    const req = parseRawRequest(new Uint8Array(wire))
    return { id: c.title, case: c, wire, request: req && apacheView(req) }
  }
  // Structured input: add `Connection: close` when the test has no Connection header, so nginx closes
  // after answering. The test's own Host is kept (nginx's only server is the default server).
  const headers = { ...((input['headers'] ?? {}) as Record<string, unknown>) }
  if (!Object.keys(headers).some((k) => k.toLowerCase() === 'connection')) headers['Connection'] = 'close'
  const req = buildRequest({ ...input, headers })
  if (!req) throw new Error(`cannot build ${c.title}`)
  return { id: c.title, case: c, wire: serialize(req), request: apacheView(req) }
}

const source = createFsWafSource()
const files = loadRegressionFiles(TESTS_DIR, source).filter((f) => f.enabled)
const picked = new Set<RegressionCase>()
for (let round = 0; picked.size < limit; round++) {
  let any = false
  for (const f of files) {
    const c = f.cases[round]
    if (c && picked.size < limit) {
      picked.add(c)
      any = true
    }
  }
  if (!any) break
}
const samples = files.flatMap((f) => f.cases.filter((c) => picked.has(c))).map(makeSample)

// ---- the engine ----

const t0 = performance.now()
const waf = createWaf(crsRuleSet(CRS_DIR, { ...DEFAULT_WAF_SETTINGS, paranoia: 1 }, source))
console.error(`engine loaded in ${Math.round(performance.now() - t0)} ms; ${samples.length} stages`)

// ---- upstream and nginx ----

async function startUpstream(port: number): Promise<Server> {
  const reply = `HTTP/1.1 200 OK\r\nX-Upstream: ${UPSTREAM_MARK}\r\nContent-Length: ${UPSTREAM_MARK.length}\r\nConnection: close\r\n\r\n${UPSTREAM_MARK}`
  const server = createServer({ insecureHTTPParser: true }, (req, res) => {
    req.resume()
    req.on('end', () => {
      res.writeHead(200, { 'X-Upstream': UPSTREAM_MARK, 'Content-Type': 'text/plain' })
      res.end(UPSTREAM_MARK)
    })
  })
  // Whatever node cannot parse still counts as "reached the upstream".
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end(reply)
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  return server
}

function nginxConfig(dir: string, port: number, upPort: number): string {
  const user = process.getuid?.() === 0 ? 'user root;' : ''
  writeFileSync(
    join(dir, 'modsecurity.conf'),
    `SecRuleEngine On
SecRequestBodyAccess On
SecRequestBodyLimit 10485760
SecRequestBodyNoFilesLimit 1048576
SecRequestBodyLimitAction Reject
SecResponseBodyAccess Off
SecAuditEngine Off
SecRule REQUEST_HEADERS:Content-Type "(?:application(?:/soap\\+|/)|text/)xml" "id:200000,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML"
SecRule REQUEST_HEADERS:Content-Type "application/json" "id:200001,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRule REQBODY_ERROR "!@eq 0" "id:200002,phase:2,t:none,log,deny,status:400,msg:'Failed to parse request body.'"
${
  samePolicy
    ? `SecRule MULTIPART_STRICT_ERROR "!@eq 0" "id:200003,phase:2,t:none,log,deny,status:400,msg:'Multipart request body failed strict validation.'"
SecRule MULTIPART_UNMATCHED_BOUNDARY "@eq 1" "id:200004,phase:2,t:none,log,deny,msg:'Multipart parser detected a possible unmatched boundary.'"
SecAction "id:900200,phase:1,pass,nolog,t:none,setvar:'tx.allowed_methods=${DEFAULT_WAF_SETTINGS.allowedMethods!.join(' ')}'"
SecAction "id:900220,phase:1,pass,nolog,t:none,setvar:'tx.allowed_request_content_type=${DEFAULT_WAF_SETTINGS.allowedContentTypes!.map((t) => `|${t}|`).join(' ')}'"`
    : ''
}
Include /etc/modsecurity/crs/crs-setup.conf
Include /etc/modsecurity/crs/REQUEST-900-EXCLUSION-RULES-BEFORE-CRS.conf
Include ${CRS_DIR}/rules/*.conf
Include /etc/modsecurity/crs/RESPONSE-999-EXCLUSION-RULES-AFTER-CRS.conf
`,
  )
  return `load_module ${MODULE};
${user}
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 256; }
http {
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  access_log off;
  client_max_body_size 20m;
  client_header_timeout 3s;
  client_body_timeout 3s;
  modsecurity on;
  modsecurity_rules_file ${dir}/modsecurity.conf;
  server {
    listen 127.0.0.1:${port} default_server;
    server_name localhost;
    location / {
      proxy_pass http://127.0.0.1:${upPort};
      proxy_set_header Host $host;
    }
  }
}
`
}

// ---- talking to nginx ----

interface WireResult {
  /** Status from the status line, or undefined (no status line). */
  status: number | undefined
  /** The upstream answered (the request went through ModSecurity). */
  upstream: boolean
  note: string
}

function send(port: number, wire: Buffer): Promise<WireResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    const start = Date.now()
    let done = false
    const sock = connect(port, '127.0.0.1')
    const finish = (note: string): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      sock.destroy()
      const text = Buffer.concat(chunks).toString('latin1')
      const m = /^HTTP\/\d\.\d (\d{3})/.exec(text)
      let status = m ? Number(m[1]) : undefined
      // HTTP/0.9 answers have no status line; nginx's error pages name the status in <title>.
      if (status === undefined) {
        const t = /<title>(\d{3}) /.exec(text)
        if (t) status = Number(t[1])
      }
      resolve({ status, upstream: text.includes(UPSTREAM_MARK), note: text === '' ? note : '' })
    }
    const timer = setTimeout(() => finish('timeout (no answer in 8 s)'), 8000)
    sock.on('data', (d: Buffer) => chunks.push(d))
    sock.on('end', () => {
      const ms = Date.now() - start
      // 408 is answered by closing: the body that Content-Length announced never came.
      finish(`closed without an answer after ${ms} ms${ms >= 2900 ? ' (client_body_timeout 3s)' : ''}`)
    })
    sock.on('error', (e) => finish(`socket error: ${e.message}`))
    sock.on('connect', () => sock.write(wire))
  })
}

function readFrom(path: string, offset: number): string {
  const buf = readFileSync(path)
  return buf.subarray(offset).toString('latin1')
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

// ---- main ----

interface Row {
  id: string
  file: string
  engine: { blocked: boolean; status: number | null; rules: number[]; score: number }
  nginx: { status: number | null; blocked: boolean | null; rules: number[]; reason: string; log: string }
  verdict: 'agree' | 'engine-blocks' | 'nginx-blocks' | 'not-comparable'
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-waf-compare-'))
  const [port, upPort] = [await freePort(), await freePort()]
  const upstream = await startUpstream(upPort)
  writeFileSync(join(dir, 'nginx.conf'), nginxConfig(dir, port, upPort))
  const errorLog = join(dir, 'error.log')
  const pidFile = join(dir, 'nginx.pid')
  const stopNginx = (): void => {
    if (existsSync(pidFile)) {
      const pid = Number(readFileSync(pidFile, 'utf8').trim())
      if (pid > 0) {
        try {
          process.kill(pid, 'SIGQUIT')
        } catch {
          // already gone
        }
      }
    }
  }
  const nginxAlive = (): boolean => {
    try {
      process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 0)
      return true
    } catch {
      return false
    }
  }
  const rows: Row[] = []
  try {
    const r = spawnSync('nginx', ['-c', join(dir, 'nginx.conf'), '-p', dir, '-e', errorLog], {
      encoding: 'utf8',
    })
    if (r.status !== 0) throw new Error(`nginx did not start: ${r.stderr}`)
    // Wait for nginx to answer.
    for (let i = 0; ; i++) {
      const probe = await send(
        port,
        Buffer.from(
          "GET /?id=1'%20OR%20'1'='1 HTTP/1.1\r\nHost: localhost\r\nUser-Agent: bench\r\nConnection: close\r\n\r\n",
        ),
      )
      if (probe.status !== undefined) {
        if (probe.status !== 403) throw new Error(`nginx probe with SQLi: expected 403, got ${probe.status}`)
        break
      }
      if (i > 100) throw new Error('nginx does not answer')
      await sleep(100)
    }
    const ok = await send(
      port,
      Buffer.from(
        'GET /?q=hello HTTP/1.1\r\nHost: localhost\r\nUser-Agent: bench\r\nAccept: */*\r\nConnection: close\r\n\r\n',
      ),
    )
    if (ok.status !== 200 || !ok.upstream)
      throw new Error(`nginx does not proxy a clean request (${ok.status})`)

    for (const s of samples) {
      // The engine.
      let engine: Row['engine']
      if (s.request) {
        const v = evaluateRequest(waf, s.request)
        engine = {
          blocked: v.interruption !== null,
          status: v.interruption?.status ?? null,
          rules: v.rules,
          score: v.score,
        }
      } else {
        engine = { blocked: false, status: null, rules: [], score: 0 }
      }
      // nginx.
      const before = statSync(errorLog).size
      const w = await send(port, s.wire)
      if (w.note.includes('ECONNREFUSED') || !nginxAlive()) {
        throw new Error(`nginx stopped during the run at ${s.id} (${w.note}); see ${errorLog}`)
      }
      await sleep(5)
      let log = readFrom(errorLog, before)
      // nginx writes the reason of a refusal (e.g. a body timeout) as it closes; give it a moment.
      if (!w.upstream && !log.includes('ModSecurity: Access denied')) {
        await sleep(100)
        log = readFrom(errorLog, before)
      }
      const denied = /ModSecurity: Access denied with code (\d+)/.exec(log)
      const nginxRules = [...new Set([...log.matchAll(/\[id "(\d+)"\]/g)].map((m) => Number(m[1])))]
      let blocked: boolean | null
      let reason = ''
      if (denied) blocked = true
      else if (w.upstream) blocked = false
      else {
        blocked = null
        const line = log
          .split('\n')
          .find((l) => /\[info\]|\[error\]|\[warn\]|\[crit\]/.test(l) && !l.includes('ModSecurity'))
        reason =
          (line?.replace(/^.*?\*\d+ /, '').replace(/, client: .*$/, '') ?? '') ||
          w.note ||
          `status ${w.status ?? 'none'} without ModSecurity or upstream`
        if (w.status !== undefined && !reason.startsWith('status')) reason = `${w.status}: ${reason}`
      }
      const verdict: Row['verdict'] = !s.request
        ? blocked === null
          ? 'not-comparable'
          : blocked
            ? 'nginx-blocks'
            : 'agree'
        : blocked === null
          ? 'not-comparable'
          : blocked === engine.blocked
            ? 'agree'
            : engine.blocked
              ? 'engine-blocks'
              : 'nginx-blocks'
      if (!s.request && verdict === 'not-comparable') reason += ' (the engine cannot parse it either)'
      rows.push({
        id: s.id,
        file: `${s.case.folder}/${s.case.file}`,
        engine,
        nginx: {
          status: w.status ?? null,
          blocked,
          rules: nginxRules,
          reason,
          log: blocked === null ? log.slice(0, 600) : '',
        },
        verdict,
      })
    }
  } finally {
    stopNginx()
    await new Promise<void>((resolve) => upstream.close(() => resolve()))
    upstream.closeAllConnections()
    await sleep(300)
    if (rows.length === samples.length) rmSync(dir, { recursive: true, force: true })
    else console.error(`incomplete run: kept ${dir}`)
  }

  // ---- report ----
  const count = (v: Row['verdict']): number => rows.filter((r) => r.verdict === v).length
  const compared = rows.length - count('not-comparable')
  const agree = count('agree')
  const summary = {
    date: new Date().toISOString(),
    samePolicy,
    stages: rows.length,
    compared,
    agree,
    disagree: compared - agree,
    engineBlocksNginxPasses: count('engine-blocks'),
    nginxBlocksEnginePasses: count('nginx-blocks'),
    notComparable: count('not-comparable'),
    agreement: compared ? Number((agree / compared).toFixed(4)) : 0,
    blockedByBoth: rows.filter((r) => r.verdict === 'agree' && r.engine.blocked).length,
  }
  const mismatches = rows
    .filter((r) => r.verdict === 'engine-blocks' || r.verdict === 'nginx-blocks')
    .map((r) => ({
      id: r.id,
      file: r.file,
      direction:
        r.verdict === 'engine-blocks' ? 'engine blocks, nginx passes' : 'nginx blocks, engine passes',
      engineRules: r.engine.rules,
      engineScore: r.engine.score,
      engineStatus: r.engine.status,
      nginxStatus: r.nginx.status,
      nginxRules: r.nginx.rules,
      onlyEngine: r.engine.rules.filter((id) => !r.nginx.rules.includes(id)),
      onlyNginx: r.nginx.rules.filter((id) => !r.engine.rules.includes(id)),
    }))
  const notComparable = rows
    .filter((r) => r.verdict === 'not-comparable')
    .map((r) => ({
      id: r.id,
      file: r.file,
      nginxStatus: r.nginx.status,
      reason: r.nginx.reason,
      engineBlocked: r.engine.blocked,
      nginxLog: r.nginx.log,
    }))
  mkdirSync(new URL('.', RESULTS), { recursive: true })
  writeFileSync(RESULTS, JSON.stringify({ summary, mismatches, notComparable }, null, 2) + '\n')

  console.log(`| | count |`)
  console.log(`| --- | ---: |`)
  console.log(`| stages sent | ${summary.stages} |`)
  console.log(`| compared | ${compared} |`)
  console.log(
    `| agree | ${agree} (${(summary.agreement * 100).toFixed(1)} %; ${summary.blockedByBoth} blocked by both) |`,
  )
  console.log(`| engine blocks, nginx passes | ${summary.engineBlocksNginxPasses} |`)
  console.log(`| nginx blocks, engine passes | ${summary.nginxBlocksEnginePasses} |`)
  console.log(`| not comparable (nginx refused before ModSecurity) | ${summary.notComparable} |`)
  console.log()
  if (mismatches.length) {
    console.log('| test | direction | rules only the engine matched | rules only ModSecurity matched |')
    console.log('| --- | --- | --- | --- |')
    for (const m of mismatches)
      console.log(`| ${m.id} | ${m.direction} | ${m.onlyEngine.join(' ')} | ${m.onlyNginx.join(' ')} |`)
    console.log()
  }
  if (notComparable.length) {
    console.log('| not comparable | nginx |')
    console.log('| --- | --- |')
    for (const n of notComparable) console.log(`| ${n.id} | ${n.reason.replace(/\|/g, '\\|')} |`)
  }
  console.error(`wrote ${RESULTS.pathname}`)
}

await main()
