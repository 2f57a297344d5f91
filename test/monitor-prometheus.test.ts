import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { createRepo, eventually } from '../src/deploy/testing.js'
import { httpGet } from './deploy-helpers.js'
import { removeSandboxes } from './services-helpers.js'
import { OWNER } from './support/platform.js'
import { freePort, REPO, removeAfterServers, startServer } from './support/processes.js'

const PROMETHEUS = '/usr/bin/prometheus'
const hasPrometheus = spawnSync(PROMETHEUS, ['--version']).status === 0
const METRICS_TOKEN = 'scrape-' + 'x7'.repeat(16)
const step = (m: string): boolean =>
  process.env['MON_DEBUG'] === '1' && process.stderr.write(`[${new Date().toISOString()}] ${m}\n`)
const SECRET = 'sk_live_' + 'Q'.repeat(24)

/** An app that logs every request with a secret variable's value, and exits on /crash. */
const APP = `
const http = require('node:http')
const server = http.createServer((req, res) => {
  console.log('handled ' + req.url + ' with key ' + process.env.API_KEY)
  if (req.url === '/crash') process.exit(3)
  res.writeHead(req.url === '/boom' ? 500 : 200, { 'content-type': 'text/plain' })
  res.end('ok\\n')
})
server.listen(Number(process.env.PORT), () => console.log('listening'))
process.on('SIGTERM', () => server.close(() => process.exit(0)))
`

/**
 * Acceptance: Debian's real Prometheus scrapes a real `palisade serve` with the metrics token while the edge
 * serves traffic, blocks an attack and a deployment fails; Prometheus's HTTP API then has the rates, the
 * histogram buckets and the blocks by rule. Without the token /metrics is 401. `GET /v1/environments/:id/logs`
 * follows the app's output and the access log while a request is made, with the secret masked.
 */
test(
  'Prometheus scrapes palisade serve: traffic, a blocked attack and a failed deploy become series; logs follow',
  { skip: hasPrometheus ? false : 'Debian package prometheus is not installed' },
  async (t) => {
    const root = mkdtempSync(path.join(tmpdir(), 'palisade-prom-'))
    chmodSync(root, 0o711)
    removeAfterServers(t, root)
    const dataDir = path.join(root, 'data')
    const repo = createRepo(path.join(root, 'app'))
    repo.commit({
      'server.js': APP,
      'package.json': JSON.stringify({ name: 'app', scripts: { start: 'node server.js' } }),
    })
    const edgePort = await freePort()
    const server = await startServer(t, {
      PALISADE_DATA_DIR: dataDir,
      PALISADE_MASTER_KEY: 'c'.repeat(64),
      PALISADE_EDGE_HTTP_LISTEN: `127.0.0.1:${edgePort}`,
      PALISADE_EDGE_HTTPS_LISTEN: `127.0.0.1:${await freePort()}`,
      PALISADE_GIT_LOCAL_ROOTS: root,
      PALISADE_METRICS_TOKEN: METRICS_TOKEN,
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
      return {
        status: res.status,
        text,
        json: (res.headers.get('content-type')?.startsWith('application/json')
          ? JSON.parse(text)
          : null) as Record<string, unknown>,
      }
    }

    // Without the token, with a wrong one, with a session: 401 in the documented format.
    for (const token of [undefined, 'wrong-token-wrong-token-wrong', undefined]) {
      const r = await api('GET', '/metrics', undefined, token)
      assert.equal(r.status, 401)
      assert.equal((r.json['error'] as { code: string }).code, 'unauthenticated')
    }
    const setupToken = readFileSync(path.join(dataDir, 'setup-token'), 'utf8').trim()
    assert.equal(
      (await api('POST', '/v1/setup', { token: setupToken, ...OWNER, workspace: 'acme' })).status,
      201,
    )
    assert.equal(
      (await api('POST', '/v1/sessions', { ...OWNER, password: 'wrong password here' })).status,
      401,
    )
    const token = (await api('POST', '/v1/sessions', OWNER)).json['token'] as string
    assert.equal(
      (await api('GET', '/metrics', undefined, token)).status,
      401,
      'a session is not a scrape token',
    )
    // An operator's API token with the metrics scope may scrape.
    const scrape = await api(
      'POST',
      '/v1/me/tokens',
      { name: 'prom', scopes: ['metrics'], expiresInDays: 30 },
      token,
    )
    assert.equal(scrape.status, 201, scrape.text)
    assert.equal((await api('GET', '/metrics', undefined, scrape.json['token'] as string)).status, 200)
    const ok = await api('GET', '/metrics', undefined, METRICS_TOKEN)
    assert.equal(ok.status, 200)
    assert.match(ok.text, /^# HELP palisade_/m)

    step('metrics auth checked')
    const project = await api(
      'POST',
      '/v1/workspaces/acme/projects',
      { name: 'shop', repository: repo.dir },
      token,
    )
    assert.equal(project.status, 201, project.text)
    const env = await api(
      'POST',
      `/v1/projects/${String(project.json['id'])}/environments`,
      { name: 'main' },
      token,
    )
    assert.equal(env.status, 201, env.text)
    envId = env.json['id'] as string
    const host = env.json['host'] as string
    const v = await api(
      'PUT',
      `/v1/environments/${envId}/variables/API_KEY`,
      { value: SECRET, secret: true },
      token,
    )
    assert.ok(v.status === 200 || v.status === 201, v.text)

    const deployAndWait = async (body: object) => {
      const d = await api('POST', `/v1/environments/${envId}/deployments`, body, token)
      assert.equal(d.status, 201, d.text)
      return eventually(
        async () => {
          const r = (await api('GET', `/v1/deployments/${String(d.json['id'])}`, undefined, token)).json
          return r['status'] === 'succeeded' || r['status'] === 'failed' ? r : undefined
        },
        90_000,
        'deployment',
      )
    }
    assert.equal((await deployAndWait({}))['status'], 'succeeded')
    assert.equal((await deployAndWait({ ref: 'no-such-branch' }))['status'], 'failed')

    step('deployments done')
    // Real Prometheus, scraping every second with the token, with the shipped alerting rules loaded.
    const promPort = await freePort()
    const promDir = path.join(root, 'prom')
    const config = path.join(root, 'prometheus.yml')
    writeFileSync(
      config,
      [
        'global: { scrape_interval: 1s, evaluation_interval: 1s }',
        `rule_files: [${JSON.stringify(path.join(REPO, 'deploy/prometheus/alerts.yml'))}]`,
        'scrape_configs:',
        '  - job_name: palisade',
        '    metrics_path: /metrics',
        `    authorization: { type: Bearer, credentials: ${JSON.stringify(METRICS_TOKEN)} }`,
        `    static_configs: [{ targets: ["127.0.0.1:${server.port}"] }]`,
      ].join('\n'),
    )
    const prom = spawn(
      PROMETHEUS,
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${promDir}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
        '--storage.tsdb.retention.time=1h',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    )
    let promLog = ''
    prom.stderr.on('data', (d: Buffer) => (promLog = (promLog + d.toString()).slice(-8000)))
    t.after(
      () =>
        new Promise<void>((resolve) => {
          if (prom.exitCode !== null) return resolve()
          prom.once('exit', () => resolve())
          prom.kill('SIGTERM')
        }),
    )
    const query = async (
      q: string,
    ): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> => {
      const res = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(q)}`)
      const body = (await res.json()) as { status: string; data: { result: [] } }
      assert.equal(body.status, 'success', `${q}: ${JSON.stringify(body)}`)
      return body.data.result
    }

    // Prometheus scrapes before the traffic starts (a rate needs a sample before and after).
    await eventually(
      async () =>
        (await query('up{job="palisade"}').catch(() => []))[0]?.value[1] === '1' ? true : undefined,
      30_000,
      'first scrape',
    )
    await new Promise((r) => setTimeout(r, 1500))

    // Follow the environment's log while requests are made.
    const followed: string[] = []
    const follow = request(
      {
        port: server.port,
        host: '127.0.0.1',
        path: `/v1/environments/${envId}/logs?follow=true&lines=0`,
        headers: { authorization: `Bearer ${token}` },
      },
      (res) => {
        assert.equal(res.statusCode, 200)
        res.setEncoding('utf8')
        res.on('data', (c: string) => followed.push(c))
      },
    )
    follow.on('error', () => undefined)
    follow.end()
    t.after(() => follow.destroy())
    await new Promise((r) => setTimeout(r, 300))

    // Traffic, a 500, a 404 and a blocked attack, for a few seconds (Prometheus needs two scrapes for a rate).
    for (let i = 0; i < 6; i++) {
      assert.equal((await httpGet(edgePort, host, `/page/${i}`, { accept: 'text/plain' })).status, 200)
      assert.equal((await httpGet(edgePort, host, '/boom', { accept: 'text/plain' })).status, 500)
      assert.equal(
        (await httpGet(edgePort, host, "/?id=1'%20OR%20'1'='1", { accept: '*/*', 'user-agent': 'x/1' }))
          .status,
        403,
      )
      await new Promise((r) => setTimeout(r, 700))
    }

    step('traffic sent')
    const lines = await eventually(
      async () => {
        const all = followed
          .join('')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Record<string, unknown>)
        const app = all.some((l) => l['source'] === 'app' && String(l['text']).includes('handled /page/5'))
        const access = all.some(
          (l) => l['source'] === 'access' && l['path'] === '/page/5' && l['status'] === 200,
        )
        return app && access ? all : undefined
      },
      15_000,
      'followed log lines',
    )
    const text = JSON.stringify(lines)
    assert.ok(!text.includes(SECRET), 'the secret variable never appears in the followed log')
    assert.match(text, /with key ••••••/, "the app's output shows the secret masked")
    // Filters: the 5xx access lines only.
    const only5xx = await api('GET', `/v1/environments/${envId}/logs?status=5xx&lines=50`, undefined, token)
    const parsed = only5xx.text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { source: string; status: number; path: string })
    assert.ok(
      parsed.length >= 6 &&
        parsed.every((l) => l.source === 'access' && l.status === 500 && l.path === '/boom'),
    )
    const badFilter = await api('GET', `/v1/environments/${envId}/logs?status=abc`, undefined, token)
    assert.equal(badFilter.status, 400)

    step('logs checked')
    const targets = async (): Promise<string> =>
      JSON.stringify(
        (
          (await (await fetch(`http://127.0.0.1:${promPort}/api/v1/targets`)).json()) as {
            data: { activeTargets: Array<{ health: string; lastError: string }> }
          }
        ).data.activeTargets.map((a) => [a.health, a.lastError]),
      )
    const rate = await eventually(
      async () => {
        const r = await query(
          `sum by (status_class) (rate(palisade_edge_requests_total{environment="${envId}"}[1m]))`,
        )
        const by: Record<string, number> = Object.fromEntries(
          r.map((s) => [s.metric['status_class'], Number(s.value[1])]),
        )
        return (by['2xx'] ?? 0) > 0 && (by['5xx'] ?? 0) > 0 && (by['4xx'] ?? 0) > 0 ? by : undefined
      },
      30_000,
      'rates in Prometheus',
    ).catch(async (err: unknown) => {
      throw new Error(
        `${String(err)}; targets: ${await targets()}; series: ${JSON.stringify(await query('palisade_edge_requests_total'))}; log: ${promLog.slice(-300)}`,
      )
    })
    assert.ok(rate['2xx']! > 0)
    // The newest scrape has every request (18 through the edge) in the +Inf bucket.
    const buckets = await eventually(
      async () => {
        const b = await query(`palisade_edge_request_duration_seconds_bucket{environment="${envId}"}`)
        const inf = b.find((x) => x.metric['le'] === '+Inf')
        return inf && Number(inf.value[1]) >= 18 ? b : undefined
      },
      15_000,
      'all requests in the +Inf bucket',
    )
    assert.equal(buckets.length, 13, 'every latency bucket is a series')
    const quantile = await query(
      `histogram_quantile(0.9, sum by (le) (rate(palisade_edge_request_duration_seconds_bucket{environment="${envId}"}[1m])))`,
    )
    assert.ok(quantile.length === 1 && Number.isFinite(Number(quantile[0]!.value[1])))
    const byRule = await query('palisade_waf_blocks_by_rule_total')
    assert.ok(
      byRule.some((s) => s.metric['rule'] === '949110' && Number(s.value[1]) >= 6),
      JSON.stringify(byRule),
    )
    const waf = await query(`palisade_waf_decisions_total{environment="${envId}",action="block"}`)
    assert.ok(Number(waf[0]?.value[1]) >= 6)
    const deploys = await query('palisade_deployments_total')
    const byOutcome = Object.fromEntries(deploys.map((s) => [s.metric['outcome'], Number(s.value[1])]))
    assert.deepEqual(byOutcome, { succeeded: 1, failed: 1 })
    assert.equal(
      (await query('count(palisade_deployment_duration_seconds_bucket{outcome="failed"})'))[0]?.value[1],
      '11',
    )
    const logins = Object.fromEntries(
      (await query('palisade_logins_total')).map((s) => [s.metric['outcome'], Number(s.value[1])]),
    )
    assert.ok(logins['success']! >= 1 && logins['failure']! >= 1, JSON.stringify(logins))
    assert.equal((await query(`palisade_app_up{environment="${envId}"}`))[0]?.value[1], '1')
    assert.ok(
      (await query('palisade_api_requests_total{route="/v1/environments/:id/deployments",method="POST"}'))
        .length > 0,
    )
    assert.ok((await query('palisade_process_resident_memory_bytes')).length === 1)
    assert.ok((await query('palisade_data_dir_bytes{kind="used"}')).length === 1)
    // The shipped rules loaded into Prometheus.
    const rules = (await (await fetch(`http://127.0.0.1:${promPort}/api/v1/rules`)).json()) as {
      data: { groups: Array<{ rules: unknown[] }> }
    }
    assert.ok(rules.data.groups.reduce((n, g) => n + g.rules.length, 0) >= 8)
  },
)
