import assert from 'node:assert/strict'
import { test } from 'node:test'
import { runCli } from '../src/cli/main.js'
import type { Domain } from '../src/deploy/index.js'
import { createShopEnvironment, setUpOwner, startPlatform } from './support/platform.js'

test('palisade domains add, verify, list and remove drive the API; verify exits 1 until the proof is there', async (t) => {
  const txt = new Map<string, string[][]>()
  const tp = await startPlatform(
    t,
    'sqlite',
    {},
    {
      domains: { proof: { resolveTxt: async (name) => txt.get(name) ?? [], lookup: async () => [] } },
    },
  )
  const { token, workspaceId } = await setUpOwner(tp)
  const envId = await createShopEnvironment(tp, token, workspaceId, { name: 'main' })
  const api = await tp.platform.app.listen({ host: '127.0.0.1', port: 0 })
  const saved = { url: process.env['PALISADE_API_URL'], token: process.env['PALISADE_TOKEN'] }
  process.env['PALISADE_API_URL'] = api
  process.env['PALISADE_TOKEN'] = token
  t.after(() => {
    for (const [k, v] of [
      ['PALISADE_API_URL', saved.url],
      ['PALISADE_TOKEN', saved.token],
    ] as const) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  })
  assert.equal(await runCli(['domains', 'add', 'shop/main', 'cli.example.com']), 0)
  assert.equal(await runCli(['domains', 'verify', 'shop/main', 'cli.example.com']), 1)
  const list = (await tp.call('GET', `/v1/environments/${envId}/domains`, { token })).json() as {
    items: Domain[]
  }
  const dns = list.items[0]?.verification.dns
  assert.ok(dns)
  txt.set(dns.name, [[dns.value]])
  assert.equal(await runCli(['domains', 'verify', 'shop/main', 'cli.example.com']), 0)
  assert.equal(await runCli(['domains', 'list', 'shop/main']), 0)
  assert.equal(tp.platform.edge.routes.lookup('cli.example.com')?.environmentId, envId)
  assert.equal(await runCli(['domains', 'remove', 'shop/main', 'cli.example.com']), 0)
  assert.equal(tp.platform.edge.routes.lookup('cli.example.com'), undefined)
})
