/**
 * Requests per second of evaluateRequest on one core (this process), CRS 3.3.4 at paranoia 1,
 * Palisade's default set-up, with a benign mix of GET / form POST / JSON POST requests.
 * Run: node --import tsx bench/waf/eval-rps.ts [seconds] [paranoia]
 */
import { createFsWafSource } from '../../src/edge/index.js'
import {
  createWaf,
  crsRuleSet,
  DEFAULT_WAF_SETTINGS,
  evaluateRequest,
  type WafRequest,
} from '../../src/waf/index.js'

const seconds = Number(process.argv[2] ?? 10)
const paranoia = Number(process.argv[3] ?? 1) as 1 | 2 | 3 | 4
const crsDir = process.env['PALISADE_CRS_DIR'] ?? '/usr/share/modsecurity-crs'
const t0 = performance.now()
const ruleSet = crsRuleSet(crsDir, { ...DEFAULT_WAF_SETTINGS, paranoia }, createFsWafSource())
const loadMs = performance.now() - t0
const waf = createWaf(ruleSet)

const common: Array<[string, string]> = [
  ['Host', 'shop.example.com'],
  ['User-Agent', 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'],
  ['Accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'],
  ['Accept-Language', 'en-US,en;q=0.5'],
  ['Accept-Encoding', 'gzip, deflate, br'],
  ['Cookie', 'session=7f3a9c2e1b; theme=dark; _ga=GA1.2.1234567890.1700000000'],
]
const body = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'))
function post(uri: string, type: string, payload: string): WafRequest {
  const b = body(payload)
  return {
    method: 'POST',
    uri,
    protocol: 'HTTP/1.1',
    headers: [...common, ['Content-Type', type], ['Content-Length', String(b.byteLength)]],
    body: b,
    remoteAddr: '203.0.113.7',
  }
}
const get = (uri: string): WafRequest => ({
  method: 'GET',
  uri,
  protocol: 'HTTP/1.1',
  headers: common,
  remoteAddr: '203.0.113.7',
})
const mix: WafRequest[] = [
  get('/'),
  get('/products?category=shoes&page=2&sort=price_asc'),
  get('/static/app.3f9c2e.js'),
  get('/search?q=running+shoes+size+42&lang=en'),
  get('/api/v1/orders/12345'),
  post(
    '/login',
    'application/x-www-form-urlencoded',
    'username=alice%40example.com&password=correct+horse+battery&remember=on',
  ),
  post(
    '/checkout',
    'application/x-www-form-urlencoded',
    'address=12+Main+Street&city=Springfield&zip=12345&note=Leave+at+the+door',
  ),
  post(
    '/api/v1/cart',
    'application/json',
    JSON.stringify({
      items: [
        { sku: 'A-100', qty: 2 },
        { sku: 'B-7', qty: 1 },
      ],
      coupon: 'SPRING',
    }),
  ),
  post(
    '/api/v1/profile',
    'application/json',
    JSON.stringify({ name: 'Alice Example', bio: 'I like hiking and coffee.', tags: ['a', 'b'] }),
  ),
  get('/blog/2024/05/how-we-build-things?utm_source=newsletter&utm_medium=email'),
]

let blocked = 0
for (const r of mix) if (evaluateRequest(waf, r).action === 'block') blocked++
// warm-up
for (let i = 0; i < 2000; i++) evaluateRequest(waf, mix[i % mix.length]!)
let n = 0
const cpu0 = process.cpuUsage()
const start = performance.now()
const end = start + seconds * 1000
while (performance.now() < end) {
  for (let i = 0; i < 100; i++) evaluateRequest(waf, mix[n++ % mix.length]!)
}
const elapsed = (performance.now() - start) / 1000
const cpu = process.cpuUsage(cpu0)
// CPU seconds of this process: on a busy machine wall-clock rps understates one core's throughput.
const cpuSeconds = (cpu.user + cpu.system) / 1e6
console.log(
  JSON.stringify({
    paranoia,
    rules: ruleSet.rules.length,
    loadMs: Math.round(loadMs),
    requests: n,
    seconds: Number(elapsed.toFixed(2)),
    rps: Math.round(n / elapsed),
    cpuSeconds: Number(cpuSeconds.toFixed(2)),
    rpsPerCpuSecond: Math.round(n / cpuSeconds),
    usPerRequest: Number(((elapsed * 1e6) / n).toFixed(1)),
    falsePositivesInMix: blocked,
  }),
)
