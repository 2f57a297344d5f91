import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { proveDomain, type DomainProofOptions } from './domain-proof.js'

const TOKEN = 'tok3nTOKENtok3nTOKENtok3nTOKEN12'

function txt(records: Record<string, string[][]>): (name: string) => Promise<string[][]> {
  return async (name) => {
    const found = records[name]
    if (!found) throw Object.assign(new Error(`queryTxt ENOTFOUND ${name}`), { code: 'ENOTFOUND' })
    return found
  }
}

const noHttp: DomainProofOptions = { lookup: async () => [] }

test('a TXT record _palisade-challenge.<name> with the token proves control, also split into chunks', async () => {
  const ok = await proveDomain('shop.example.com', TOKEN, {
    ...noHttp,
    resolveTxt: txt({
      '_palisade-challenge.shop.example.com': [['v=spf1 -all'], ['palisade-verification=', TOKEN]],
    }),
  })
  assert.deepEqual(ok, { ok: true, method: 'dns' })
})

test('a TXT record with another token, on another name, or no record at all proves nothing', async () => {
  for (const records of [
    { '_palisade-challenge.shop.example.com': [['palisade-verification=someone-elses-token']] },
    { 'shop.example.com': [[`palisade-verification=${TOKEN}`]] },
    { '_palisade-challenge.other.example.com': [[`palisade-verification=${TOKEN}`]] },
    {},
  ]) {
    assert.deepEqual(await proveDomain('shop.example.com', TOKEN, { ...noHttp, resolveTxt: txt(records) }), {
      ok: false,
    })
  }
})

async function serve(
  handler: Parameters<typeof createServer>[1],
): Promise<{ server: Server; port: number; hosts: string[] }> {
  const hosts: string[] = []
  const server = createServer((req, res) => {
    hosts.push(String(req.headers.host))
    handler?.(req, res)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, port: (server.address() as AddressInfo).port, hosts }
}

test('the HTTP token served by the domain proves control (a real request to a local server)', async (t) => {
  const site = await serve((req, res) => {
    if (req.url === `/.well-known/palisade-challenge/${TOKEN}`) res.end(`${TOKEN}\n`)
    else res.writeHead(404).end()
  })
  t.after(() => site.server.close())
  const opts: DomainProofOptions = {
    resolveTxt: txt({}),
    lookup: async () => [{ address: '127.0.0.1', family: 4 }],
    httpPort: site.port,
    allowPrivateAddresses: true,
  }
  assert.deepEqual(await proveDomain('shop.example.com', TOKEN, opts), { ok: true, method: 'http' })
  assert.equal(site.hosts[0], 'shop.example.com')
  assert.deepEqual(await proveDomain('shop.example.com', 'another-token-another-token-0000', opts), {
    ok: false,
  })
})

test('redirects, wrong bodies and huge bodies prove nothing', async (t) => {
  const site = await serve((req, res) => {
    if (req.headers.host === 'redirect.example.com')
      res
        .writeHead(302, { location: `http://elsewhere.example.com/.well-known/palisade-challenge/${TOKEN}` })
        .end()
    else if (req.headers.host === 'wrong.example.com') res.end('not the token')
    else res.end(TOKEN + ' '.repeat(4096))
  })
  t.after(() => site.server.close())
  const opts: DomainProofOptions = {
    resolveTxt: txt({}),
    lookup: async () => [{ address: '127.0.0.1', family: 4 }],
    httpPort: site.port,
    allowPrivateAddresses: true,
  }
  for (const name of ['redirect.example.com', 'wrong.example.com', 'huge.example.com'])
    assert.deepEqual(await proveDomain(name, TOKEN, opts), { ok: false }, name)
})

test('the HTTP check never connects to loopback, private or metadata addresses unless told to (SSRF)', async (t) => {
  const site = await serve((_req, res) => res.end(TOKEN))
  t.after(() => site.server.close())
  for (const address of ['127.0.0.1', '10.0.0.1', '169.254.169.254', '::1', '::ffff:127.0.0.1']) {
    const result = await proveDomain('shop.example.com', TOKEN, {
      resolveTxt: txt({}),
      lookup: async () => [{ address, family: address.includes(':') ? 6 : 4 }],
      httpPort: site.port,
      timeoutMs: 500,
    })
    assert.deepEqual(result, { ok: false }, address)
  }
  // one public and one private address: refused as a whole
  const mixed = await proveDomain('shop.example.com', TOKEN, {
    resolveTxt: txt({}),
    lookup: async () => [
      { address: '127.0.0.1', family: 4 },
      { address: '93.184.216.34', family: 4 },
    ],
    httpPort: site.port,
    timeoutMs: 500,
  })
  assert.deepEqual(mixed, { ok: false })
  assert.equal(site.hosts.length, 0)
})
