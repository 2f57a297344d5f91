/**
 * Detector parity: Palisade's @detectSQLi and @detectXSS beside ModSecurity v3's (libinjection, in
 * libmodsecurity3 under nginx), value by value, over the corpora at hand: the GoTestWAF test cases
 * (`../shared/waf-corpora/gotestwaf.jsonl`, attacks and benign texts), the CRS 3.3.4 regression requests and
 * Palisade's own rule set tests (CRS YAML format).
 *
 * Every request is parsed by the engine (query, form, JSON, XML, multipart, cookies) and each argument and
 * cookie value it yields is one sample (the values 942100 and 941100 read). Both detectors get the same
 * transformations CRS gives them (942100: utf8toUnicode, urlDecodeUni, removeNulls; 941100: the XSS chain).
 * ModSecurity gets the value as a form field (every byte percent-encoded, so it decodes to the same bytes)
 * under rules that hold only the detector: 403 means it detected. No CRS on either side: only the detectors.
 *
 * Run: node --import tsx bench/waf-compare/detectors.ts [--limit N]   (N values per corpus, default all)
 * Needs nginx and libnginx-mod-http-modsecurity (Debian). 127.0.0.1 only, free ports, a temp dir.
 * Writes bench/results/detector-parity.json and prints the tables WAF.md quotes.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createFsWafSource } from '../../src/edge/index.js'
import { buildRequest, loadRegressionFiles } from '../../src/waf/crs/regression.js'
import { findOperator } from '../../src/waf/operators/index.js'
import { findTransform } from '../../src/waf/transforms/index.js'
import type { TransactionData } from '../../src/waf/variables/variable.js'
import { createWaf, type WafRequest } from '../../src/waf/index.js'
import { loadRuleSet } from '../../src/waf/seclang/load.js'
import { freePort } from '../../test/support/processes.js'
import { CRS_TESTS_DIR } from '../../test/waf/crs-paths.js'

const MODULE = '/usr/lib/nginx/modules/ngx_http_modsecurity_module.so'
const GOTESTWAF = new URL('../../../shared/waf-corpora/gotestwaf.jsonl', import.meta.url)
const PALISADE_TESTS = new URL('../../src/waf/crs/testdata/palisade', import.meta.url)
const RESULTS = new URL('../results/detector-parity.json', import.meta.url)
const MAX_VALUE = 8192
const limitArg = process.argv.indexOf('--limit')
const limit = limitArg >= 0 ? Number(process.argv[limitArg + 1]) : Infinity

const SQLI_CHAIN = ['utf8toUnicode', 'urlDecodeUni', 'removeNulls']
const XSS_CHAIN = [
  'utf8toUnicode',
  'urlDecodeUni',
  'htmlEntityDecode',
  'jsDecode',
  'cssDecode',
  'removeNulls',
]

// ---- the samples: values as the engine parses them ----

interface Sample {
  corpus: 'gotestwaf-attack' | 'gotestwaf-benign' | 'crs-yaml' | 'palisade-yaml'
  /** GoTestWAF category, or the CRS rule file folder. */
  cls: string
  request: string
  value: string
}

const source = createFsWafSource()
const parser = createWaf(
  loadRuleSet({
    text: `SecRuleEngine DetectionOnly
SecRequestBodyAccess On
SecRule REQUEST_HEADERS:Content-Type "@rx (?:application(?:/soap\\+|/)|text/)xml" "id:200000,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML"
SecRule REQUEST_HEADERS:Content-Type "@rx application/json" "id:200001,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"
`,
    source,
  }),
)

function valuesOf(req: WafRequest): string[] {
  const tx = parser.newTransaction(req)
  tx.processRequestHeaders()
  tx.processRequestBody()
  const d = (tx as unknown as { data: TransactionData }).data
  return [...d.argsGet, ...d.argsPost, ...d.cookies].map((e) => e.value)
}

const samples: Sample[] = []
const seen = new Set<string>()
function add(corpus: Sample['corpus'], cls: string, id: string, req: WafRequest | undefined): void {
  if (!req) return
  for (const value of valuesOf(req)) {
    if (value === '' || value.length > MAX_VALUE) continue
    const key = `${corpus}\u0000${value}`
    if (seen.has(key)) continue
    seen.add(key)
    samples.push({ corpus, cls, request: id, value })
  }
}

if (existsSync(GOTESTWAF)) {
  for (const line of readFileSync(GOTESTWAF, 'utf8').split('\n')) {
    if (line.trim() === '') continue
    const r = JSON.parse(line) as {
      id: string
      label: string
      category: string
      method: string
      uri: string
      headers: Record<string, string>
      body?: string
    }
    const req: WafRequest = {
      method: r.method,
      uri: r.uri,
      protocol: 'HTTP/1.1',
      headers: Object.entries(r.headers),
      remoteAddr: '192.0.2.1',
      ...(r.body ? { body: new Uint8Array(Buffer.from(r.body, 'utf8')) } : {}),
    }
    add(r.label === 'attack' ? 'gotestwaf-attack' : 'gotestwaf-benign', r.category, r.id, req)
  }
}
for (const [corpus, dir] of [
  ['crs-yaml', process.env['CRS_TESTS_DIR'] ?? CRS_TESTS_DIR],
  ['palisade-yaml', PALISADE_TESTS.pathname],
] as const) {
  if (!existsSync(dir)) continue
  for (const f of loadRegressionFiles(dir, source)) {
    if (!f.enabled) continue
    for (const c of f.cases) {
      let req: WafRequest | undefined
      try {
        req = buildRequest(c.input)
      } catch {
        req = undefined
      }
      add(corpus, f.folder, c.title, req)
    }
  }
}
const byCorpus = new Map<string, Sample[]>()
for (const s of samples) byCorpus.set(s.corpus, [...(byCorpus.get(s.corpus) ?? []), s])
const picked = [...byCorpus.values()].flatMap((list) => list.slice(0, limit))

// ---- Palisade's detectors ----

const chain = (names: string[]) => {
  const fns = names.map((n) => findTransform(n)!)
  return (v: string) => fns.reduce((x, f) => f(x), v)
}
const ctx = { readFile: () => '', baseDir: '' }
const ours = {
  sqli: (v: string) => findOperator('detectSQLi')!('', ctx)(chain(SQLI_CHAIN)(v)) !== null,
  xss: (v: string) => findOperator('detectXSS')!('', ctx)(chain(XSS_CHAIN)(v)) !== null,
}

// ---- ModSecurity's, under nginx ----

const dir = mkdtempSync(join(tmpdir(), 'palisade-detectors-'))
const port = await freePort()
const upPort = await freePort()
const user = process.getuid?.() === 0 ? 'user root;' : ''
writeFileSync(
  join(dir, 'modsecurity.conf'),
  `SecRuleEngine On
SecRequestBodyAccess On
SecRequestBodyLimit 1048576
SecRequestBodyNoFilesLimit 1048576
SecAuditEngine Off
SecRule ARGS_POST:s "@detectSQLi" "id:1,phase:2,deny,status:403,t:none,${SQLI_CHAIN.map((t) => `t:${t}`).join(',')}"
SecRule ARGS_POST:x "@detectXSS" "id:2,phase:2,deny,status:403,t:none,${XSS_CHAIN.map((t) => `t:${t}`).join(',')}"
`,
)
writeFileSync(
  join(dir, 'nginx.conf'),
  `load_module ${MODULE};
${user}
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  access_log off;
  client_max_body_size 2m;
  client_body_buffer_size 2m;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:${upPort}; location / { return 200 'ok'; } }
  server {
    listen 127.0.0.1:${port} default_server;
    modsecurity on;
    modsecurity_rules_file ${dir}/modsecurity.conf;
    location / { proxy_pass http://127.0.0.1:${upPort}; }
  }
}
`,
)
const started = spawnSync('nginx', ['-c', join(dir, 'nginx.conf'), '-p', dir, '-e', join(dir, 'error.log')], {
  encoding: 'utf8',
})
if (started.status !== 0) throw new Error(`nginx did not start: ${started.stderr}`)
const agent = new Agent({ keepAlive: true, maxSockets: 4 })
const pct = (v: string): string => {
  let out = ''
  for (let i = 0; i < v.length; i++) out += `%${v.charCodeAt(i).toString(16).padStart(2, '0')}`
  return out
}
function post(field: 's' | 'x', value: string): Promise<number> {
  const body = Buffer.from(`${field}=${pct(value)}`, 'latin1')
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/',
        agent,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': body.length },
      },
      (res) => {
        res.resume()
        res.on('end', () => resolve(res.statusCode ?? 0))
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

interface Row extends Sample {
  oursSqli: boolean
  msSqli: boolean
  oursXss: boolean
  msXss: boolean
}
const rows: Row[] = []
try {
  for (let i = 0; ; i++) {
    try {
      if ((await post('s', "1' OR '1'='1")) === 403 && (await post('s', 'hello')) === 200) break
    } catch {
      // not up yet
    }
    if (i > 100) throw new Error('nginx + ModSecurity does not answer as expected')
    await sleep(100)
  }
  const queue = [...picked]
  const work = async (): Promise<void> => {
    for (let s = queue.shift(); s !== undefined; s = queue.shift()) {
      const [msS, msX] = [await post('s', s.value), await post('x', s.value)]
      if (![200, 403].includes(msS) || ![200, 403].includes(msX))
        throw new Error(`unexpected status ${msS}/${msX} for ${s.request}`)
      rows.push({
        ...s,
        oursSqli: ours.sqli(s.value),
        msSqli: msS === 403,
        oursXss: ours.xss(s.value),
        msXss: msX === 403,
      })
    }
  }
  await Promise.all([work(), work(), work(), work()])
} finally {
  agent.destroy()
  try {
    process.kill(Number(readFileSync(join(dir, 'nginx.pid'), 'utf8').trim()), 'SIGQUIT')
  } catch {
    // already gone
  }
  await sleep(300)
  rmSync(dir, { recursive: true, force: true })
}

// ---- the report ----

const corpora = ['gotestwaf-attack', 'gotestwaf-benign', 'crs-yaml', 'palisade-yaml']
console.log(
  '| corpus | values | detector | both | neither | Palisade only | ModSecurity only | agreement |\n| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |',
)
const summary: Record<string, unknown> = {}
for (const corpus of corpora) {
  const list = rows.filter((r) => r.corpus === corpus)
  if (list.length === 0) continue
  for (const [det, o, m] of [
    ['@detectSQLi', 'oursSqli', 'msSqli'],
    ['@detectXSS', 'oursXss', 'msXss'],
  ] as const) {
    const both = list.filter((r) => r[o] && r[m]).length
    const neither = list.filter((r) => !r[o] && !r[m]).length
    const oursOnly = list.filter((r) => r[o] && !r[m])
    const msOnly = list.filter((r) => !r[o] && r[m])
    summary[`${corpus} ${det}`] = {
      values: list.length,
      both,
      neither,
      oursOnly: oursOnly.length,
      msOnly: msOnly.length,
    }
    console.log(
      `| ${corpus} | ${list.length} | ${det} | ${both} | ${neither} | ${oursOnly.length} | ${msOnly.length} | ${((100 * (both + neither)) / list.length).toFixed(1)} % |`,
    )
  }
}
console.log('\nDisagreements by class (first examples):')
const disagreements: Record<string, { count: number; examples: string[] }> = {}
for (const r of rows) {
  for (const [det, o, m] of [
    ['SQLi', 'oursSqli', 'msSqli'],
    ['XSS', 'oursXss', 'msXss'],
  ] as const) {
    if (r[o] === r[m]) continue
    const k = `${det} | ${r[o] ? 'Palisade only' : 'ModSecurity only'} | ${r.corpus} | ${r.cls}`
    const d = (disagreements[k] ??= { count: 0, examples: [] })
    d.count++
    if (d.examples.length < 3) d.examples.push(r.value.slice(0, 120))
  }
}
for (const [k, d] of Object.entries(disagreements).sort((a, b) => b[1].count - a[1].count))
  console.log(
    `| ${k} | ${d.count} | ${d.examples.map((e) => '`' + JSON.stringify(e).slice(1, -1).replace(/\|/g, '\\|').replace(/`/g, "'") + '`').join(' ')} |`,
  )
mkdirSync(new URL('../results/', import.meta.url), { recursive: true })
writeFileSync(RESULTS, JSON.stringify({ summary, disagreements, rows }, null, 1) + '\n')
