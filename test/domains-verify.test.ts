import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { send, startEdge } from '../src/edge/testing.js'
import type { Domain } from '../src/deploy/index.js'
import { insertUser } from '../src/iam/index.js'
import { setUpOwner, signIn, startPlatform, STORE_KINDS, type TestPlatform } from './support/platform.js'

/** What the injected resolver answers: TXT records by name (the real lookup path is unit-tested). */
const txtRecords = new Map<string, string[][]>()

async function environment(tp: TestPlatform, token: string, workspace: string): Promise<string> {
  const project = await tp.call('POST', `/v1/workspaces/${workspace}/projects`, {
    token,
    body: { name: 'shop' },
  })
  assert.equal(project.statusCode, 201, project.body)
  const env = await tp.call('POST', `/v1/projects/${(project.json() as { id: string }).id}/environments`, {
    token,
    body: { name: 'main' },
  })
  assert.equal(env.statusCode, 201, env.body)
  return (env.json() as { id: string }).id
}

/** The answer without what differs by nature between two claims (token, ids, times). */
function shape(d: Domain): unknown {
  return { name: d.name, status: d.status, verifiedAt: d.verifiedAt === null, keys: Object.keys(d).sort() }
}

/**
 * Threats: a tenant routing a domain it does not control (first claimer wins), and a tenant learning from the
 * API that another tenant uses a domain. The edge is real, the HTTP proof is a real request to a local server,
 * DNS answers come from an injected resolver.
 */
for (const kind of STORE_KINDS)
  test(`custom domains route only after proof, answer the same whoever else claimed them, and stop routing when the proof goes (${kind})`, async (t) => {
    txtRecords.clear()
    const site = createServer((req, res) => {
      const token = /^\/\.well-known\/palisade-challenge\/(.+)$/.exec(req.url ?? '')?.[1]
      if (req.headers.host === 'web.example.org' && token && servedTokens.has(token)) res.end(token)
      else res.writeHead(404).end()
    })
    const servedTokens = new Set<string>()
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve))
    t.after(() => new Promise<void>((resolve) => site.close(() => resolve())))
    const tp = await startPlatform(
      t,
      kind,
      {},
      {
        domains: {
          proof: {
            resolveTxt: async (name) => {
              const found = txtRecords.get(name)
              if (!found) throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' })
              return found
            },
            lookup: async (host) => (host === 'web.example.org' ? [{ address: '127.0.0.1', family: 4 }] : []),
            httpPort: (site.address() as AddressInfo).port,
            allowPrivateAddresses: true,
          },
        },
      },
    )
    const edge = await startEdge()
    t.after(() => edge.stop())
    await tp.platform.deploy.attachRoutes(edge.edge.routes)
    const routedTo = (host: string): string | undefined => edge.edge.routes.lookup(host)?.environmentId
    const status = async (host: string): Promise<number> => (await send(edge.httpPort, { host })).status

    // tenant A (acme) and tenant B (globex, another user)
    const a = await setUpOwner(tp)
    const envA = await environment(tp, a.token, 'acme')
    await tp.platform.store.db
      .transaction()
      .execute((trx) => insertUser(trx, new Date(), 'bob@globex.example', 'another long passphrase 77'))
    const bToken = await signIn(tp, 'bob@globex.example', 'another long passphrase 77')
    assert.equal(
      (await tp.call('POST', '/v1/workspaces', { token: bToken, body: { name: 'globex' } })).statusCode,
      201,
    )
    const envB = await environment(tp, bToken, 'globex')
    const events = async (): Promise<number> =>
      Number(
        (
          await tp.platform.store.db
            .selectFrom('audit_events')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      )

    // 1. A claims: pending, not routed; the answer says how to prove control
    const claimA = await tp.call('POST', `/v1/environments/${envA}/domains`, {
      token: a.token,
      body: { name: 'Shop.Example.com' },
    })
    assert.equal(claimA.statusCode, 201, claimA.body)
    const domainA = claimA.json() as Domain
    assert.equal(domainA.status, 'pending')
    assert.equal(domainA.verification.dns.name, '_palisade-challenge.shop.example.com')
    assert.match(domainA.verification.dns.value, /^palisade-verification=[A-Za-z0-9]{32}$/)
    assert.match(
      domainA.verification.http.url,
      /^http:\/\/shop\.example\.com\/\.well-known\/palisade-challenge\/[A-Za-z0-9]{32}$/,
    )
    assert.equal(routedTo('shop.example.com'), undefined)
    assert.equal(await status('shop.example.com'), 404)

    // 2. B claims the same name: the very same answer as for a name nobody uses (no oracle, no first-claimer lock)
    const claimB = await tp.call('POST', `/v1/environments/${envB}/domains`, {
      token: bToken,
      body: { name: 'shop.example.com' },
    })
    const fresh = await tp.call('POST', `/v1/environments/${envB}/domains`, {
      token: bToken,
      body: { name: 'fresh.example.net' },
    })
    assert.equal(claimB.statusCode, 201, claimB.body)
    assert.equal(fresh.statusCode, 201)
    assert.deepEqual(shape(claimB.json() as Domain), {
      ...(shape(fresh.json() as Domain) as object),
      name: 'shop.example.com',
    })
    const domainB = claimB.json() as Domain
    assert.notEqual(domainB.verification.dns.value, domainA.verification.dns.value)

    // 3. verification without proof: still pending, still not routed, one audit event (a failure)
    let before = await events()
    const noProof = await tp.call('POST', `/v1/environments/${envA}/domains/shop.example.com/verify`, {
      token: a.token,
    })
    assert.equal(noProof.statusCode, 200, noProof.body)
    assert.equal((noProof.json() as Domain).status, 'pending')
    assert.equal(await events(), before + 1)
    assert.equal(await status('shop.example.com'), 404)

    // 4. A publishes its TXT record: verified and routed to A at once
    txtRecords.set('_palisade-challenge.shop.example.com', [[domainA.verification.dns.value]])
    before = await events()
    const proven = await tp.call('POST', `/v1/environments/${envA}/domains/shop.example.com/verify`, {
      token: a.token,
    })
    assert.equal((proven.json() as Domain).status, 'verified')
    assert.equal(await events(), before + 1)
    assert.equal(routedTo('shop.example.com'), envA)
    assert.equal(await status('shop.example.com'), 503) // A's environment: nothing deployed yet

    // 5. B proves too (both records present) while A holds it: exactly the answer of an unproven name
    txtRecords.set('_palisade-challenge.shop.example.com', [
      [domainA.verification.dns.value],
      [domainB.verification.dns.value],
    ])
    const heldElsewhere = await tp.call('POST', `/v1/environments/${envB}/domains/shop.example.com/verify`, {
      token: bToken,
    })
    const unproven = await tp.call('POST', `/v1/environments/${envB}/domains/fresh.example.net/verify`, {
      token: bToken,
    })
    assert.equal(heldElsewhere.statusCode, unproven.statusCode)
    assert.deepEqual(shape(heldElsewhere.json() as Domain), {
      ...(shape(unproven.json() as Domain) as object),
      name: 'shop.example.com',
    })
    assert.ok(!heldElsewhere.body.includes(envA) && !heldElsewhere.body.includes('acme'))
    assert.equal(routedTo('shop.example.com'), envA)

    // 6. the HTTP method: a real request to the name's server
    const web = (
      await tp.call('POST', `/v1/environments/${envB}/domains`, {
        token: bToken,
        body: { name: 'web.example.org' },
      })
    ).json() as Domain
    servedTokens.add(web.verification.http.body)
    const viaHttp = await tp.call('POST', `/v1/environments/${envB}/domains/web.example.org/verify`, {
      token: bToken,
    })
    assert.equal((viaHttp.json() as Domain).status, 'verified', viaHttp.body)
    assert.equal(routedTo('web.example.org'), envB)

    // 7. A removes its TXT record: the periodic re-check unroutes after 3 failures in a row, then B can verify
    txtRecords.set('_palisade-challenge.shop.example.com', [[domainB.verification.dns.value]])
    assert.deepEqual(await tp.platform.deploy.recheckDomains(), { checked: 2, unrouted: 0 })
    assert.deepEqual(await tp.platform.deploy.recheckDomains(), { checked: 2, unrouted: 0 })
    assert.equal(routedTo('shop.example.com'), envA)
    assert.deepEqual(await tp.platform.deploy.recheckDomains(), { checked: 2, unrouted: 1 })
    assert.equal(routedTo('shop.example.com'), undefined)
    assert.equal(await status('shop.example.com'), 404)
    assert.equal(routedTo('web.example.org'), envB) // still proven
    const lost = await tp.platform.store.db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'environment.domain.unverify')
      .execute()
    assert.equal(lost.length, 1)
    assert.equal(lost[0]?.environment_id, envA)
    const listA = (await tp.call('GET', `/v1/environments/${envA}/domains`, { token: a.token })).json() as {
      items: Domain[]
    }
    assert.equal(listA.items[0]?.status, 'pending')
    const nowB = await tp.call('POST', `/v1/environments/${envB}/domains/shop.example.com/verify`, {
      token: bToken,
    })
    assert.equal((nowB.json() as Domain).status, 'verified')
    assert.equal(routedTo('shop.example.com'), envB)

    // B cannot verify or delete A's claim through A's environment
    assert.equal(
      (await tp.call('POST', `/v1/environments/${envA}/domains/shop.example.com/verify`, { token: bToken }))
        .statusCode,
      404,
    )
    assert.equal(
      (await tp.call('DELETE', `/v1/environments/${envA}/domains/shop.example.com`, { token: bToken }))
        .statusCode,
      404,
    )
  })
