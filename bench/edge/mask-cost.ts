/**
 * CPU cost of the access log's masking per request: `maskUrl` on the request targets of bench/edge/mix.lua
 * (fresh strings each call, as the HTTP parser makes them), in ns per call.
 * Prints the median and the lowest round (the machine's load only ever adds time).
 * Run: node --import tsx bench/edge/mask-cost.ts [rounds=20]; run it on two commits to compare.
 */
import { maskCookie, maskUrl } from '../../src/edge/mask.js'

const rounds = Number(process.argv[2] ?? 20)
const WORDS = ['blue', 'red', 'trail', 'running', 'leather', 'winter', 'summer', 'kids', 'wide', 'light']
const urls: string[] = []
for (let k = 0; k < 1000; k++) {
  const w = (n: number): string => WORDS[n % WORDS.length] as string
  urls.push(
    '/',
    `/products?category=${w(k)}&page=${(k % 40) + 1}&sort=price-asc`,
    `/search?q=${w(k)}+${w(k * 7)}+shoes&size=${36 + (k % 12)}&in_stock=1`,
    '/static/app.3f9a1c.js',
    `/api/orders/${100000 + k}?include=items,shipping`,
    '/login',
    '/account/address',
    '/api/orders',
    '/api/profile',
    '/api/reviews',
  )
}
const cookie = 'session=9e3779b1009e3779b1000007d0; theme=dark; consent=analytics'
let sink = 0
const perRound: number[] = []
for (let round = 0; round < rounds; round++) {
  const batch = urls.map((u) => ` ${u}`.slice(1))
  const cookies = urls.map(() => ` ${cookie}`.slice(1))
  const t = process.cpuUsage()
  for (let i = 0; i < batch.length; i++)
    sink += maskUrl(batch[i] as string).length + (maskCookie(cookies[i]) ?? '').length
  const c = process.cpuUsage(t)
  if (round >= 2) perRound.push(((c.user + c.system) * 1000) / batch.length) // the first rounds warm the JIT
}
perRound.sort((a, b) => a - b)
const median = perRound[Math.floor(perRound.length / 2)] ?? 0
console.log(
  `maskUrl + maskCookie: median ${median.toFixed(0)} ns, lowest ${(perRound[0] ?? 0).toFixed(0)} ns per request (${sink > 0 ? perRound.length : 0} rounds)`,
)
