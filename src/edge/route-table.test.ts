import assert from 'node:assert/strict'
import { test } from 'node:test'
import { normalizeHost, RouteTable } from './route-table.js'
import { testRoute } from './testing.js'
import type { EdgeRoute } from './types.js'

function route(environmentId: string, hosts: string[], port = 1): EdgeRoute {
  return testRoute({
    environmentId,
    workspaceId: 'ws',
    hosts,
    target: { kind: 'proxy', upstream: { host: '127.0.0.1', port } },
  })
}

test('host names are lowercased and stripped of port and trailing dot; junk becomes empty', () => {
  assert.equal(normalizeHost('Main.Shop.localhost:8000'), 'main.shop.localhost')
  assert.equal(normalizeHost('example.com.'), 'example.com')
  assert.equal(normalizeHost('[::1]:80'), '')
  assert.equal(normalizeHost('a b'), '')
  assert.equal(normalizeHost('../etc'), '')
  assert.equal(normalizeHost(undefined), '')
})

test('an upsert swaps the whole route at once and drops hosts the environment no longer has', () => {
  const table = new RouteTable()
  table.upsert(route('env_1', ['a.localhost', 'old.example'], 1))
  const before = table.lookup('a.localhost')
  table.upsert(route('env_1', ['a.localhost', 'new.example'], 2))
  const after = table.lookup('a.localhost')
  assert.notEqual(before, after)
  assert.deepEqual(before?.target, { kind: 'proxy', upstream: { host: '127.0.0.1', port: 1 } })
  assert.deepEqual(after?.target, { kind: 'proxy', upstream: { host: '127.0.0.1', port: 2 } })
  assert.equal(table.lookup('old.example'), undefined)
  assert.equal(table.lookup('NEW.example:443')?.environmentId, 'env_1')
})

test('routes are frozen copies: changing the caller object changes nothing', () => {
  const table = new RouteTable()
  const mine = route('env_1', ['a.localhost'])
  table.upsert(mine)
  ;(mine.hosts as string[]).push('b.localhost')
  assert.equal(table.lookup('b.localhost'), undefined)
  assert.ok(Object.isFrozen(table.lookup('a.localhost')))
})

test('a host owned by one environment cannot be claimed by another', () => {
  const table = new RouteTable()
  table.upsert(route('env_1', ['a.localhost']))
  assert.throws(() => table.upsert(route('env_2', ['A.localhost'])), { code: 'PAL_EDGE_HOST_TAKEN' })
  assert.throws(() => table.upsert(route('env_2', ['bad host'])), { code: 'PAL_EDGE_ROUTE_INVALID' })
  table.remove('env_1')
  table.upsert(route('env_2', ['a.localhost']))
  assert.equal(table.lookup('a.localhost')?.environmentId, 'env_2')
})
