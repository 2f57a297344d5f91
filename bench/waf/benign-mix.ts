/**
 * The benign mix of bench/edge/mix.lua as WafRequests, for benchmarks that call the engine directly.
 * Values change the way real traffic does: browser headers are the same for everyone, each of 2 000
 * visitors keeps a session cookie, and what visitors type or pick is new on every request, so an
 * engine that remembers values it saw gets no more help than real visitors would give it.
 */
import type { WafRequest } from '../../src/waf/index.js'

const WORDS = ['blue', 'red', 'trail', 'running', 'leather', 'winter', 'summer', 'kids', 'wide', 'light']
const word = (k: number): string => WORDS[k % WORDS.length]!
const FORM: Array<[string, string]> = [['Content-Type', 'application/x-www-form-urlencoded']]
const JSON_TYPE: Array<[string, string]> = [['Content-Type', 'application/json']]

function headers(visitor: number, extra: Array<[string, string]> = []): Array<[string, string]> {
  const session = `${((visitor * 2654435761) % 4294967296).toString(16)}${(visitor * 40503).toString(16)}`
  return [
    ['Host', 'bench.localhost'],
    ['User-Agent', 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'],
    ['Accept', 'text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8'],
    ['Accept-Language', 'en-GB,en;q=0.7'],
    ['Cookie', `session=${session}; theme=dark; consent=analytics`],
    ...extra,
  ]
}

function request(method: string, uri: string, head: Array<[string, string]>, body?: string): WafRequest {
  if (body === undefined)
    return { method, uri, protocol: 'HTTP/1.1', headers: head, remoteAddr: '203.0.113.7' }
  const bytes = new Uint8Array(Buffer.from(body, 'utf8'))
  return {
    method,
    uri,
    protocol: 'HTTP/1.1',
    headers: [...head, ['Content-Length', String(bytes.byteLength)]],
    body: bytes,
    remoteAddr: '203.0.113.7',
  }
}

const KINDS: Array<(k: number, v: number) => WafRequest> = [
  (k, v) => request('GET', '/', headers(v)),
  (k, v) => request('GET', `/products?category=${word(k)}&page=${(k % 40) + 1}&sort=price-asc`, headers(v)),
  (k, v) =>
    request('GET', `/search?q=${word(k)}+${word(k * 7)}+shoes&size=${36 + (k % 12)}&in_stock=1`, headers(v)),
  (k, v) => request('GET', '/static/app.3f9a1c.js', headers(v)),
  (k, v) => request('GET', `/api/orders/${100000 + k}?include=items,shipping`, headers(v)),
  (k, v) =>
    request(
      'POST',
      '/login',
      headers(v, FORM),
      `email=visitor${v}%40example.com&password=correct-horse-${k}-staple&remember=1`,
    ),
  (k, v) =>
    request(
      'POST',
      '/account/address',
      headers(v, FORM),
      `name=Visitor+${v}&street=${(k % 200) + 1}+High+Street&city=London&postcode=SW${(k % 20) + 1}+${(k % 9) + 1}AA&country=GB`,
    ),
  (k, v) =>
    request(
      'POST',
      '/api/orders',
      headers(v, JSON_TYPE),
      JSON.stringify({
        items: [
          { sku: `SHOE-${36 + (k % 12)}-${word(k).toUpperCase()}`, qty: (k % 3) + 1 },
          { sku: 'SOCK-M', qty: (k % 5) + 1 },
        ],
        coupon: `WINTER${k % 30}`,
        note: `Leave it with the neighbour at number ${(k % 90) + 1}, please.`,
      }),
    ),
  (k, v) =>
    request(
      'PUT',
      '/api/profile',
      headers(v, JSON_TYPE),
      JSON.stringify({
        displayName: `Visitor ${v}`,
        newsletter: k % 2 === 0,
        preferences: { currency: 'GBP', language: 'en-GB', sizes: [36 + (k % 8), 37 + (k % 8)] },
      }),
    ),
  (k, v) =>
    request(
      'POST',
      '/api/reviews',
      headers(v, JSON_TYPE),
      JSON.stringify({
        product: `SHOE-42-${word(k).toUpperCase()}`,
        rating: (k % 5) + 1,
        title: `Great ${word(k * 3)} fit`,
        text: `Comfortable from day one; I ran ${(k % 25) + 1} km in them on Sunday and the ${word(k * 11)} ones are next.`,
      }),
    ),
]

/** Request number `n` of the mix (n ≥ 1); each one differs from the others in what a visitor sent. */
export function benignRequest(n: number): WafRequest {
  return KINDS[n % KINDS.length]!(n, (n * 7919) % 2000)
}
