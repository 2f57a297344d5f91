import assert from 'node:assert/strict'
import { chmodSync, cpSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { createRepo, eventually } from '../src/deploy/testing.js'
import { httpGet } from './deploy-helpers.js'
import { removeSandboxes } from './services-helpers.js'
import { OWNER } from './support/platform.js'
import { freePort, REPO, removeAfterServers, startServer } from './support/processes.js'

/**
 * The README tour against a real `palisade serve` process: the edge it starts serves the deployed example app,
 * its WAF blocks an attack and records it, and deleting the environment takes the app off the edge.
 */
test('palisade serve: deploy the example, serve it through the edge, block an attack, delete', async (t) => {
  const root = mkdtempSync(path.join(tmpdir(), 'palisade-tour-'))
  chmodSync(root, 0o711) // environment users (when run as root) pass through to reach their releases
  removeAfterServers(t, root)
  const dataDir = path.join(root, 'data')
  const repo = createRepo(path.join(root, 'shop'))
  cpSync(path.join(REPO, 'examples/node-hello'), repo.dir, { recursive: true })
  repo.commit({})
  const edgePort = await freePort()
  const server = await startServer(t, {
    PALISADE_DATA_DIR: dataDir,
    PALISADE_MASTER_KEY: 'b'.repeat(64),
    PALISADE_EDGE_HTTP_LISTEN: `127.0.0.1:${edgePort}`,
    PALISADE_EDGE_HTTPS_LISTEN: `127.0.0.1:${await freePort()}`,
    PALISADE_GIT_LOCAL_ROOTS: root,
  })
  let envId = ''
  t.after(() => removeSandboxes(envId ? [envId] : []))

  const api = async (method: string, url: string, body?: unknown, token?: string) => {
    const res = await fetch(server.apiUrl + url, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    const text = await res.text()
    return { status: res.status, json: (text ? JSON.parse(text) : null) as Record<string, unknown> }
  }
  const setupToken = readFileSync(path.join(dataDir, 'setup-token'), 'utf8').trim()
  assert.equal(
    (await api('POST', '/v1/setup', { token: setupToken, ...OWNER, workspace: 'acme' })).status,
    201,
  )
  const token = (await api('POST', '/v1/sessions', OWNER)).json['token'] as string
  const project = await api(
    'POST',
    '/v1/workspaces/acme/projects',
    { name: 'shop', repository: repo.dir },
    token,
  )
  assert.equal(project.status, 201, JSON.stringify(project.json))
  const env = await api(
    'POST',
    `/v1/projects/${String(project.json['id'])}/environments`,
    { name: 'main' },
    token,
  )
  assert.equal(env.status, 201, JSON.stringify(env.json))
  envId = env.json['id'] as string
  const host = env.json['host'] as string
  assert.equal(host, 'main.shop.acme.localhost')

  const deployment = await api('POST', `/v1/environments/${envId}/deployments`, {}, token)
  assert.equal(deployment.status, 201, JSON.stringify(deployment.json))
  const done = await eventually(
    async () => {
      const d = (await api('GET', `/v1/deployments/${String(deployment.json['id'])}`, undefined, token)).json
      return d['status'] === 'succeeded' || d['status'] === 'failed' ? d : undefined
    },
    60_000,
    'deployment',
  )
  assert.equal(done['status'], 'succeeded', JSON.stringify(done))

  const page = await httpGet(edgePort, host, '/', { 'user-agent': 'tour/1.0', accept: 'text/plain' })
  assert.equal(page.status, 200)
  assert.match(page.body, /Hello from Palisade/)

  const attack = await httpGet(edgePort, host, "/?id=1'%20OR%20'1'='1", {
    'user-agent': 'tour/1.0',
    accept: '*/*',
  })
  assert.equal(attack.status, 403, 'the CRS blocks a classic SQL injection')
  const events = await eventually(async () => {
    const r = await api('GET', `/v1/environments/${envId}/waf-events`, undefined, token)
    const items = r.json['items'] as Array<{ action: string; uri: string; rules: Array<{ id: number }> }>
    return items.length > 0 ? items : undefined
  })
  assert.equal(events[0]!.action, 'block')
  assert.ok(
    events[0]!.rules.some((r) => r.id >= 942000 && r.id < 943000),
    'the event names the SQL injection rules that matched',
  )

  assert.equal((await api('DELETE', `/v1/environments/${envId}`, undefined, token)).status, 204)
  await eventually(async () => {
    const gone = await httpGet(edgePort, host, '/', { 'user-agent': 'tour/1.0', accept: '*/*' })
    return gone.status === 404 ? gone : undefined
  })
  await eventually(() => !readdirSync(path.join(dataDir, 'envs')).includes(envId), 20_000, 'env dir removed')
})
