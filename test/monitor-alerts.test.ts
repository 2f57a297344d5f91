import assert from 'node:assert/strict'
import { mkdirSync, rmSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { createRepo, eventually } from '../src/deploy/testing.js'
import { verifyWebhook } from '../src/monitor/index.js'
import { FAST, httpGet } from './deploy-helpers.js'
import { alertMails, startAlertReceiver } from './support/alert-receiver.js'
import { MONITOR_AUDITED } from './support/audit-elsewhere.js'
import { setUpOwner, startPlatform } from './support/platform.js'

const APP = (flag: string) => `
const fs = require('node:fs')
const http = require('node:http')
if (fs.existsSync(${JSON.stringify(flag)})) process.exit(1)
const server = http.createServer((req, res) => {
  if (req.url === '/crash') process.exit(3)
  res.writeHead(req.url === '/boom' ? 500 : 200, { 'content-type': 'text/plain' })
  res.end('ok\\n')
})
server.listen(Number(process.env.PORT))
process.on('SIGTERM', () => server.close(() => process.exit(0)))
`

/**
 * Alerts from real causes: a flood of failed logins, SQL injection attacks through the edge's WAF, and an app
 * killed into a crash loop. Each reaches an e-mail channel (the outbox) and a signed webhook whose receiver
 * verifies the signature and refuses a replay; each fires once, repeats only on schedule, and resolves.
 */
test('built-in alerts fire once, reach e-mail and signed webhooks, resolve; channels are audited', async (t) => {
  const tp = await startPlatform(
    t,
    'sqlite',
    (store) => ({
      dataDir: path.join(store.dataDir, 'data'),
      gitLocalRoots: path.join(store.dataDir, 'work'),
      runtimePinning: 'off',
      edgeHttpListen: '127.0.0.1:0',
      edgeHttpsListen: '127.0.0.1:0',
      webhooksAllowPrivate: 'on',
    }),
    { deploy: { isolate: false, options: FAST } },
  )
  const { platform } = tp
  const { token, workspaceId } = await setUpOwner(tp)
  const dataDir = platform.config.dataDir
  const call = async (method: string, url: string, body?: unknown, as: string | undefined = token) => {
    const res = await tp.call(method as 'POST', url, {
      ...(as ? { token: as } : {}),
      ...(body === undefined ? {} : { body }),
    })
    return {
      status: res.statusCode,
      json: (res.body ? res.json() : null) as Record<string, unknown>,
      body: res.body,
    }
  }
  const receiver = await startAlertReceiver(t)
  const slack = await startAlertReceiver(t)

  // Channels: validation, one audit event each, the secret shown once only.
  const eventsNow = async () =>
    Number(
      (
        await platform.store.db
          .selectFrom('audit_events')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    )
  const audited: string[] = []
  const expectOneEvent = async (
    key: string,
    action: string,
    run: () => Promise<{ status: number; body: string }>,
  ) => {
    const before = await eventsNow()
    const r = await run()
    assert.ok(r.status < 300, `${key}: ${r.status} ${r.body}`)
    const rows = await platform.store.db
      .selectFrom('audit_events')
      .selectAll()
      .orderBy('at', 'desc')
      .limit(1)
      .execute()
    assert.equal((await eventsNow()) - before, 1, `${key} writes exactly one audit event`)
    assert.equal(rows[0]?.action, action)
    audited.push(key)
    return r
  }
  assert.equal(
    (
      await call('POST', `/v1/workspaces/${workspaceId}/alert-channels`, {
        name: 'ops',
        kind: 'webhook',
        url: 'ftp://x',
      })
    ).status,
    400,
  )
  assert.equal(
    (await call('POST', `/v1/workspaces/${workspaceId}/alert-channels`, { name: 'ops', kind: 'email' }))
      .status,
    400,
  )
  assert.equal(
    (
      await call('POST', `/v1/workspaces/${workspaceId}/alert-channels`, {
        name: 'ops',
        kind: 'webhook',
        url: receiver.url,
        extra: 1,
      })
    ).status,
    400,
  )
  const hook = await expectOneEvent('post /v1/workspaces/{ws}/alert-channels', 'alert.channel.create', () =>
    call('POST', `/v1/workspaces/${workspaceId}/alert-channels`, {
      name: 'ops-hook',
      kind: 'webhook',
      url: receiver.url,
    }),
  )
  const hookJson = JSON.parse(hook.body) as { id: string; secret: string }
  assert.match(hookJson.secret, /^whsec_[A-Za-z0-9_-]{43}$/)
  receiver.setSecret(hookJson.secret)
  const slackHook = JSON.parse(
    (
      await call('POST', `/v1/workspaces/${workspaceId}/alert-channels`, {
        name: 'slack',
        kind: 'webhook',
        url: slack.url,
        format: 'slack',
      })
    ).body,
  ) as { secret: string }
  slack.setSecret(slackHook.secret)
  assert.equal(
    (
      await call('POST', `/v1/workspaces/${workspaceId}/alert-channels`, {
        name: 'mail',
        kind: 'email',
        email: 'oncall@example.com',
      })
    ).status,
    201,
  )
  const listed = await call('GET', `/v1/workspaces/${workspaceId}/alert-channels`)
  assert.equal((listed.json['items'] as unknown[]).length, 3)
  assert.ok(
    !listed.body.includes(hookJson.secret) && !listed.body.includes('whsec_'),
    'secrets are never shown again',
  )
  const sealed = await platform.store.db
    .selectFrom('alert_channels')
    .select('secret')
    .where('id', '=', hookJson.id)
    .executeTakeFirstOrThrow()
  assert.ok(sealed.secret && !sealed.secret.includes(hookJson.secret), 'the secret is stored encrypted')
  const auditText = JSON.stringify(await platform.store.db.selectFrom('audit_events').selectAll().execute())
  assert.ok(!auditText.includes(hookJson.secret), 'the audit log holds no secret')
  const tmp = JSON.parse(
    (
      await call('POST', `/v1/workspaces/${workspaceId}/alert-channels`, {
        name: 'tmp',
        kind: 'email',
        email: 'x@example.com',
      })
    ).body,
  ) as { id: string }
  await expectOneEvent('delete /v1/workspaces/{ws}/alert-channels/{id}', 'alert.channel.delete', () =>
    call('DELETE', `/v1/workspaces/${workspaceId}/alert-channels/${tmp.id}`),
  )
  assert.equal(
    (await call('PUT', `/v1/workspaces/${workspaceId}/alert-rules/disk`, { threshold: 101 })).status,
    400,
  )
  assert.equal(
    (await call('PUT', `/v1/workspaces/${workspaceId}/alert-rules/nope`, { muted: true })).status,
    404,
  )
  await expectOneEvent('put /v1/workspaces/{ws}/alert-rules/{name}', 'alert.rule.update', () =>
    call('PUT', `/v1/workspaces/${workspaceId}/alert-rules/crash_loop`, { threshold: 2 }),
  )
  assert.deepEqual(
    audited.sort(),
    [...MONITOR_AUDITED].sort(),
    'this suite calls every alert route listed in support/audit-elsewhere.ts',
  )
  // Muted: the disk rule never fires here, whatever the disk.
  assert.equal(
    (await call('PUT', `/v1/workspaces/${workspaceId}/alert-rules/disk`, { muted: true })).status,
    200,
  )
  const rules = await call('GET', `/v1/workspaces/${workspaceId}/alert-rules`)
  const crashRule = (rules.json['items'] as Array<{ rule: string; threshold: number }>).find(
    (r) => r.rule === 'crash_loop',
  )
  assert.equal(crashRule?.threshold, 2)

  // 1. Credential stuffing: failed logins (some are throttled).
  for (let i = 0; i < 22; i++)
    await call(
      'POST',
      '/v1/sessions',
      { email: `victim${i % 3}@example.com`, password: 'not the password at all' },
      undefined,
    )
  await platform.monitor.tick()
  const alertsOf = async () =>
    (await call('GET', `/v1/workspaces/${workspaceId}/alerts`)).json['items'] as Array<{
      rule: string
      status: string
      subject: string
      notifications: number
    }>
  assert.ok((await alertsOf()).some((a) => a.rule === 'login_failures' && a.status === 'firing'))

  // 2. Attacks through the real edge and WAF.
  const root = path.join(path.dirname(dataDir), 'work')
  mkdirSync(root, { recursive: true })
  const flag = path.join(root, 'broken')
  const repo = createRepo(path.join(root, 'shop'))
  repo.commit({
    'server.js': APP(flag),
    'package.json': JSON.stringify({ name: 'shop', scripts: { start: 'node server.js' } }),
  })
  const project = await call('POST', `/v1/workspaces/${workspaceId}/projects`, {
    name: 'shop',
    repository: repo.dir,
  })
  const env = await call('POST', `/v1/projects/${String(project.json['id'])}/environments`, {
    name: 'main',
    healthCheckPath: '/',
  })
  const envId = env.json['id'] as string
  const host = env.json['host'] as string
  const dep = await call('POST', `/v1/environments/${envId}/deployments`, {})
  await eventually(
    async () => {
      const d = (await call('GET', `/v1/deployments/${String(dep.json['id'])}`)).json
      return d['status'] === 'succeeded'
        ? d
        : d['status'] === 'failed'
          ? assert.fail(JSON.stringify(d))
          : undefined
    },
    60_000,
    'deployment',
  )
  platform.warmWaf()
  const { http } = await platform.edge.listen()
  assert.equal((await httpGet(http.port, host, '/', { accept: 'text/plain' })).status, 200)
  for (let i = 0; i < 52; i++) {
    const r = await httpGet(http.port, host, `/?id=${i}'%20OR%20'1'='1`, {
      accept: '*/*',
      'user-agent': 'attack/1',
    })
    assert.equal(r.status, 403)
  }
  await eventually(
    async () => {
      const n = await platform.store.db
        .selectFrom('waf_events')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow()
      return Number(n.n) >= 52 ? true : undefined
    },
    10_000,
    'WAF events stored',
  )
  await platform.monitor.tick()
  const afterAttack = await alertsOf()
  assert.ok(
    afterAttack.some((a) => a.rule === 'waf_block_spike' && a.subject === 'ip:127.0.0.1'),
    JSON.stringify(afterAttack),
  )
  assert.ok(afterAttack.some((a) => a.rule === 'waf_block_spike' && a.subject === `env:${envId}`))

  // 3. The app fails: more than 5 % of its answers are 5xx (30 errors among the requests of this window).
  for (let i = 0; i < 30; i++)
    assert.equal((await httpGet(http.port, host, '/boom', { accept: 'text/plain' })).status, 500)
  // 4. A privileged change: the owner creates an admin-scoped API token.
  const adminToken = await call('POST', '/v1/me/tokens', {
    name: 'ci-admin',
    scopes: ['admin'],
    expiresInDays: 1,
  })
  assert.equal(adminToken.status, 201, adminToken.body)
  await platform.monitor.tick()
  const more = await alertsOf()
  assert.ok(
    more.some((a) => a.rule === 'error_rate' && a.subject === envId && a.status === 'firing'),
    JSON.stringify(more),
  )
  const privileged = more.filter((a) => a.rule === 'privileged_change')
  assert.equal(privileged.length, 1, 'an event alert fires once')
  assert.equal(privileged[0]!.status, 'resolved', 'an event alert is over once notified')

  // 5. The app is killed and cannot start again: a crash loop (threshold tuned to 2 restarts).
  rmSync(flag, { force: true })
  mkdirSync(flag)
  await httpGet(http.port, host, '/crash', { accept: '*/*' }).catch(() => undefined)
  await eventually(
    async () => {
      await platform.monitor.tick()
      return (await alertsOf()).some((a) => a.rule === 'crash_loop' && a.status === 'firing')
        ? true
        : undefined
    },
    20_000,
    'crash loop alert',
  )

  // Notifications: e-mail in the outbox, webhooks received, signed and verified; a replay is refused.
  await eventually(
    async () => {
      await platform.monitor.tick()
      return receiver.received.length >= 4 ? true : undefined
    },
    15_000,
    'webhook deliveries',
  )
  for (const r of receiver.received) assert.deepEqual(r.verdict, { ok: true })
  const bodies = receiver.received.map(
    (r) => JSON.parse(r.body) as { rule: string; event: string; workspace: { id: string } },
  )
  for (const rule of ['login_failures', 'waf_block_spike', 'error_rate', 'privileged_change', 'crash_loop'])
    assert.ok(
      bodies.some((b) => b.rule === rule && b.event === 'firing' && b.workspace.id === workspaceId),
      rule,
    )
  const first = receiver.received[0]!
  assert.deepEqual(
    verifyWebhook(hookJson.secret, first.headers, first.body, Math.floor(Date.now() / 1000), receiver.seen),
    { ok: false, reason: 'replay' },
  )
  assert.deepEqual(
    verifyWebhook(hookJson.secret, first.headers, first.body + ' ', Math.floor(Date.now() / 1000), new Map()),
    { ok: false, reason: 'signature' },
  )
  assert.deepEqual(
    verifyWebhook(hookJson.secret, first.headers, first.body, Math.floor(Date.now() / 1000) + 301, new Map()),
    { ok: false, reason: 'timestamp' },
  )
  assert.ok(slack.received.length >= 3 && slack.received.every((r) => r.verdict.ok))
  assert.match(JSON.parse(slack.received[0]!.body).text as string, /^\[FIRING\] /)
  const oncallMails = alertMails(dataDir, 'oncall@example.com')
  for (const rule of ['login_failures', 'waf_block_spike', 'error_rate', 'privileged_change', 'crash_loop'])
    assert.ok(
      oncallMails.some((m) => m.includes(`Rule: ${rule}`)),
      `an e-mail for ${rule}`,
    )

  // Fire once: more rounds while the causes last send nothing new (repeat is 60 minutes).
  const count = receiver.received.length
  await platform.monitor.tick()
  await platform.monitor.tick()
  assert.equal(
    receiver.received.length,
    count,
    `no repeat before the schedule: ${receiver.received.map((r) => r.body).join(' | ')}`,
  )
  assert.equal((await alertsOf()).filter((a) => a.rule === 'crash_loop').length, 1)

  // Resolve: the app starts again (the flag is gone) and stays up; the alert resolves and says so.
  rmSync(flag, { recursive: true, force: true })
  await eventually(
    async () => {
      await platform.monitor.tick()
      const loops = (await alertsOf()).filter((x) => x.rule === 'crash_loop')
      return loops.length === 1 && loops[0]!.status === 'resolved' ? true : undefined
    },
    90_000,
    'crash loop resolved',
  )
  await eventually(
    async () => {
      await platform.monitor.tick()
      return receiver.received.some((r) => {
        const b = JSON.parse(r.body) as { rule: string; event: string }
        return b.rule === 'crash_loop' && b.event === 'resolved'
      })
        ? true
        : undefined
    },
    10_000,
    'resolved notification',
  )

  // Delivery history: every notification delivered, with its attempts and the receiver's answer.
  const history = await call('GET', `/v1/workspaces/${workspaceId}/alert-deliveries`)
  const items = history.json['items'] as Array<{
    status: string
    attempts: number
    responseStatus: number | null
  }>
  assert.ok(items.length >= 9)
  assert.ok(
    items.every((d) => d.status === 'delivered' && d.attempts >= 1),
    JSON.stringify(items.slice(0, 3)),
  )
  assert.ok(items.some((d) => d.responseStatus === 204))
})
