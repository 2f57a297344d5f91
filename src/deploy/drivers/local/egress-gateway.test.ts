import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { createEgressGateway, decideTarget } from './egress-gateway.js'
import { hostAllowed, isPublicAddress } from './egress-policy.js'

test('only public unicast addresses pass, whatever form an internal one is written in', () => {
  for (const a of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111']) assert.equal(isPublicAddress(a), true, a)
  for (const a of [
    '127.0.0.1',
    '127.1.2.3',
    '0.0.0.0',
    '10.0.0.1',
    '172.16.5.4',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    '::ffff:127.0.0.1',
    '::ffff:169.254.169.254',
    'fd00::1',
    'fe80::1',
    '64:ff9b::a9fe:a9fe',
    '2002:7f00:1::1',
    'not-an-address',
  ])
    assert.equal(isPublicAddress(a), false, a)
})

test('allow lists match exact names and subdomains of starred entries only', () => {
  const policy = { kind: 'allow', hosts: ['registry.npmjs.org', '*.example.com'] } as const
  assert.equal(hostAllowed(policy, 'registry.npmjs.org'), true)
  assert.equal(hostAllowed(policy, 'REGISTRY.npmjs.org.'), true)
  assert.equal(hostAllowed(policy, 'a.example.com'), true)
  assert.equal(hostAllowed(policy, 'example.com'), false)
  assert.equal(hostAllowed(policy, 'evilexample.com'), false)
  assert.equal(hostAllowed(policy, 'registry.npmjs.org.evil.test'), false)
})

test('a name resolving to any non-public address is refused (DNS rebinding), a public one is pinned', async () => {
  const resolver = (map: Record<string, string[]>) => async (h: string) => map[h] ?? []
  const r = resolver({
    'ok.test': ['93.184.216.34'],
    'rebind.test': ['93.184.216.34', '127.0.0.1'],
    'meta.test': ['169.254.169.254'],
  })
  assert.deepEqual(await decideTarget({ kind: 'public' }, 'ok.test', r), {
    ok: true,
    address: '93.184.216.34',
  })
  assert.equal((await decideTarget({ kind: 'public' }, 'rebind.test', r)).ok, false)
  assert.equal((await decideTarget({ kind: 'public' }, 'meta.test', r)).ok, false)
  assert.equal((await decideTarget({ kind: 'public' }, '[::ffff:127.0.0.1]', r)).ok, false)
  assert.equal((await decideTarget({ kind: 'public' }, 'nowhere.test', r)).ok, false)
  assert.equal((await decideTarget({ kind: 'allow', hosts: ['other.test'] }, 'ok.test', r)).ok, false)
})

test('the gateway answers 403 to CONNECT and plain requests for refused targets and logs each refusal', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pal-egress-'))
  const refusals: string[] = []
  const gw = createEgressGateway({
    socketDir: dir,
    onRefusal: (tag, target, reason) => refusals.push(`${tag} ${target} ${reason}`),
    resolve: async () => ['127.0.0.1'],
  })
  t.after(async () => {
    await gw.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const sock = await gw.open('env1-app', { kind: 'public' })
  const connectStatus = await new Promise<string>((resolve) => {
    const c = net.connect(sock, () =>
      c.write('CONNECT internal.test:5432 HTTP/1.1\r\nhost: internal.test:5432\r\n\r\n'),
    )
    c.once('data', (d: Buffer) => resolve(d.toString().split('\r\n')[0] ?? ''))
  })
  assert.equal(connectStatus, 'HTTP/1.1 403 Forbidden')
  const plain = await new Promise<number>((resolve) => {
    const q = http.request(
      { socketPath: sock, path: 'http://169.254.169.254/latest/meta-data/', method: 'GET' },
      (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
      },
    )
    q.end()
  })
  assert.equal(plain, 403)
  assert.equal(refusals.length, 2)
  assert.match(refusals[0] ?? '', /^env1-app internal\.test:5432 resolves to a non-public address/)
})
