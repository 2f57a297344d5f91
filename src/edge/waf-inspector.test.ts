import assert from 'node:assert/strict'
import { test } from 'node:test'
import { baselineRuleSet, createWaf, DEFAULT_WAF_SETTINGS } from '../waf/index.js'
import type { InspectedRequest } from './types.js'
import { testRoute } from './testing.js'
import { createWafInspector } from './waf-inspector.js'

const route = testRoute({ environmentId: 'env_w', workspaceId: 'ws_w', hosts: ['w.localhost'] })

function request(uri: string, body: string | null = null): InspectedRequest {
  return {
    requestId: 'req-1',
    clientIp: '127.0.0.1',
    clientPort: 50_000,
    serverPort: 8000,
    tls: false,
    method: body === null ? 'GET' : 'POST',
    uri,
    httpVersion: '1.1',
    host: 'w.localhost',
    headers: [
      ['Host', 'w.localhost'],
      ['User-Agent', 'test'],
      ['Accept', '*/*'],
      ...(body === null ? [] : ([['Content-Type', 'application/x-www-form-urlencoded']] as const)),
    ],
    body: body === null ? null : Buffer.from(body),
    upgrade: false,
  }
}

test('the real WAF blocks SQL injection in the query and in a form body, and allows a plain request', () => {
  const waf = createWaf(baselineRuleSet({ ...DEFAULT_WAF_SETTINGS }))
  const inspect = createWafInspector(() => waf)
  const plain = inspect(request('/products?id=42'), route)
  assert.deepEqual(plain, { action: 'allow' })
  const query = inspect(request("/products?id=1' OR '1'='1"), route)
  assert.equal(query.action, 'block')
  assert.ok(query.action === 'block' && query.status === 403 && query.ruleIds.length > 0)
  const form = inspect(request('/login', "user=admin' OR 1=1 --&pw=x"), route)
  assert.equal(form.action, 'block')
})
