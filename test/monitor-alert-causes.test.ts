import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { connect as tlsConnect } from 'node:tls'
import { createRepo, eventually } from '../src/deploy/testing.js'
import { FAST, httpGet } from './deploy-helpers.js'
import { assertNotified, startAlertReceiver } from './support/alert-receiver.js'
import { setUpOwner, startPlatform, type TestPlatform } from './support/platform.js'
import { createEnvironment, provision, removeSandboxes } from './services-helpers.js'

const DAY = 86_400_000
const ONCALL = 'oncall@example.com'

/** The platform's clock: the real time plus an offset the test moves forward (never a frozen time). */
function offsetClock() {
  let offset = 0
  return {
    now: () => new Date(Date.now() + offset),
    advance: (ms: number) => (offset += ms),
    back: () => (offset = 0),
  }
}

/** An app that writes its pid (so that the test can kill it) and cannot start while `flag` exists. */
const APP = (flag: string, pidFile: string) => `
const fs = require('node:fs')
const http = require('node:http')
if (fs.existsSync(${JSON.stringify(flag)})) process.exit(1)
fs.writeFileSync(${JSON.stringify(pidFile)}, String(process.pid))
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' })
  res.end('ok\\n')
})
server.listen(Number(process.env.PORT))
process.on('SIGTERM', () => server.close(() => process.exit(0)))
`

/** `pid` and its descendants named `comm` (a sandboxed server runs under a wrapper). */
function processesNamed(pid: number, comm: string): number[] {
  const parent = new Map<number, number>()
  const name = new Map<number, string>()
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8')
      const close = stat.lastIndexOf(')')
      name.set(Number(d), stat.slice(stat.indexOf('(') + 1, close))
      parent.set(Number(d), Number(stat.slice(close + 2).split(' ')[1]))
    } catch {
      // gone meanwhile
    }
  }
  const within = (p: number): boolean => {
    for (let q: number | undefined = p, i = 0; q && i < 64; q = parent.get(q), i++) if (q === pid) return true
    return false
  }
  return [...name].filter(([p, n]) => n === comm && within(p)).map(([p]) => p)
}

interface AlertView {
  rule: string
  status: string
  subject: string
  environmentId: string | null
}

async function channels(
  tp: TestPlatform,
  token: string,
  workspaceId: string,
  receiver: { url: string; setSecret(s: string): void },
) {
  const hook = await tp.call('POST', `/v1/workspaces/${workspaceId}/alert-channels`, {
    token,
    body: { name: 'ops-hook', kind: 'webhook', url: receiver.url },
  })
  assert.equal(hook.statusCode, 201, hook.body)
  receiver.setSecret((hook.json() as { secret: string }).secret)
  const mail = await tp.call('POST', `/v1/workspaces/${workspaceId}/alert-channels`, {
    token,
    body: { name: 'oncall', kind: 'email', email: ONCALL },
  })
  assert.equal(mail.statusCode, 201, mail.body)
}

/**
 * Real causes, one after the other, on one real platform (local driver, real edge, real app processes); the
 * platform's clock is the real one moved forward where a rule needs time to pass (seconds of downtime, hours
 * without a backup, days to a certificate's end):
 * - the app process is killed and cannot start again: app_down fires, and resolves when it runs again;
 * - it is killed into a crash loop: crash_loop fires and the environment is marked `failed` (status API, CLI
 *   JSON, metric, audit); cleared by hand while the app still loops, it is marked again at the next round; the
 *   app coming back does not clear the mark, a successful deployment does;
 * - an environment on a runtime past its end of life (node 18 by the catalog's dates): runtime_eol fires, and
 *   resolves when the environment moves to a supported major;
 * - a backup schedule with no successful backup for twice its interval, then a backup deleted: backup_missing;
 * - the edge's certificate for the environment's host nearing its end: certificate_expiry, resolved by the
 *   edge's renewal in a monitor round (a new certificate served).
 * Each notification reaches a signed webhook (verified, its replay refused) and an e-mail in the outbox.
 */
test('alerts from real causes: app down, crash loop marking the environment failed until a deployment, runtime past end of life, missing backups, expiring certificate resolved by renewal', async (t) => {
  const clock = offsetClock()
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
    { clock, deploy: { isolate: false, options: FAST } },
  )
  const { platform } = tp
  const dataDir = platform.config.dataDir
  const { token: session, workspaceId } = await setUpOwner(tp)
  const receiver = await startAlertReceiver(t, () => Math.floor(clock.now().getTime() / 1000))
  await channels(tp, session, workspaceId, receiver)
  // An API token outlives the days this test moves the clock over (a session would time out).
  const tok = await tp.call('POST', '/v1/me/tokens', {
    token: session,
    body: { name: 'alerts-test', scopes: ['read', 'write', 'deploy'], expiresInDays: 365 },
  })
  assert.equal(tok.statusCode, 201, tok.body)
  const token = (tok.json() as { token: string }).token
  const call = async (method: string, url: string, body?: unknown) => {
    const res = await tp.call(method as 'POST', url, {
      token: session,
      ...(body === undefined ? {} : { body }),
    })
    return {
      status: res.statusCode,
      json: (res.body ? res.json() : null) as Record<string, unknown>,
      body: res.body,
    }
  }
  const api = async (method: string, url: string, body?: unknown) => {
    const res = await tp.call(method as 'POST', url, { token, ...(body === undefined ? {} : { body }) })
    return {
      status: res.statusCode,
      json: (res.body ? res.json() : null) as Record<string, unknown>,
      body: res.body,
    }
  }
  const tune = async (rule: string, body: Record<string, unknown>) =>
    assert.equal((await call('PUT', `/v1/workspaces/${workspaceId}/alert-rules/${rule}`, body)).status, 200)
  // Only the rules this test drives are left on (the disk of a shared test machine is not its business).
  await tune('disk', { muted: true })
  await tune('app_down', { threshold: 10 })
  await tune('crash_loop', { threshold: 1000 })
  // Fires at 30 days left, before the edge's renewal window (14 days): part 5 sees it fire, then renewal resolve it.
  await tune('certificate_expiry', { threshold: 30 })
  const alerts = async (): Promise<AlertView[]> =>
    (await api('GET', `/v1/workspaces/${workspaceId}/alerts`)).json['items'] as AlertView[]
  const alertOf = async (rule: string, subject: string) =>
    (await alerts()).filter((a) => a.rule === rule && a.subject === subject)
  const round = async () => {
    await platform.monitor.tick()
    // Deliveries are sent in the round; one more makes sure what a round queued went out.
    await platform.monitor.tick()
  }

  // The app: deployed for real, serving through the edge.
  const root = path.join(path.dirname(dataDir), 'work')
  mkdirSync(root, { recursive: true })
  const flag = path.join(root, 'broken')
  const pidFile = path.join(root, 'app.pid')
  const repo = createRepo(path.join(root, 'shop'))
  repo.commit({
    'server.js': APP(flag, pidFile),
    'package.json': JSON.stringify({ name: 'shop', scripts: { start: 'node server.js' } }),
  })
  const project = await api('POST', `/v1/workspaces/${workspaceId}/projects`, {
    name: 'shop',
    repository: repo.dir,
  })
  assert.equal(project.status, 201, project.body)
  const env = await api('POST', `/v1/projects/${String(project.json['id'])}/environments`, {
    name: 'main',
    healthCheckPath: '/',
    runtime: 'node@24',
  })
  assert.equal(env.status, 201, env.body)
  const envId = env.json['id'] as string
  const host = env.json['host'] as string
  const deploy = async () => {
    const dep = await api('POST', `/v1/environments/${envId}/deployments`, {})
    assert.equal(dep.status, 201, dep.body)
    return eventually(
      async () => {
        const d = (await api('GET', `/v1/deployments/${String(dep.json['id'])}`)).json
        return d['status'] === 'succeeded'
          ? d
          : d['status'] === 'failed'
            ? assert.fail(JSON.stringify(d))
            : undefined
      },
      90_000,
      'deployment',
    )
  }
  await deploy()
  const { http, https } = await platform.edge.listen()
  assert.equal((await httpGet(http.port, host, '/', { accept: 'text/plain' })).status, 200)
  const status = async () => (await api('GET', `/v1/environments/${envId}/status`)).json
  const running = () =>
    eventually(
      async () => {
        const p = (await status())['process'] as { state: string; pid: number | null } | null
        return p?.state === 'running' && existsSync(pidFile) ? true : undefined
      },
      60_000,
      'the app runs',
    )
  const killApp = () => {
    const pid = Number(readFileSync(pidFile, 'utf8'))
    rmSync(pidFile)
    process.kill(pid, 'SIGKILL')
  }
  await round()
  assert.equal(
    (await alerts()).length,
    0,
    `nothing fires while all is well: ${JSON.stringify(await alerts())}`,
  )
  assert.equal((await status())['status'], 'ok')

  // 1. app_down: the app process is killed and cannot start again (its start fails while the flag exists).
  mkdirSync(flag)
  killApp()
  await eventually(
    async () => {
      const p = (await status())['process'] as { state: string } | null
      return p && p.state !== 'running' ? true : undefined
    },
    10_000,
    'the supervisor saw the exit',
  )
  await round()
  assert.equal((await alertOf('app_down', envId)).length, 0, 'not before the threshold')
  clock.advance(11_000)
  await round()
  assert.equal((await alertOf('app_down', envId))[0]?.status, 'firing')
  const down = await assertNotified(receiver, dataDir, ONCALL, 'app_down', 'firing', envId)
  assert.equal(down.environmentId, envId)
  assert.equal(
    (await status())['status'],
    'ok',
    'down is not a crash loop: the environment is not marked failed',
  )
  // It starts again once the cause is gone, and the alert resolves once it has run for a while.
  rmSync(flag, { recursive: true })
  await running()
  await round()
  clock.advance(11_000)
  await round()
  assert.equal((await alertOf('app_down', envId))[0]?.status, 'resolved')
  await assertNotified(receiver, dataDir, ONCALL, 'app_down', 'resolved', envId)

  // 2. crash_loop: killed again into restarts that fail; the environment is marked failed.
  await tune('crash_loop', { threshold: 2 })
  await tune('app_down', { muted: true })
  mkdirSync(flag)
  killApp()
  await eventually(
    async () => {
      await new Promise((r) => setTimeout(r, 200))
      await round()
      return (await alertOf('crash_loop', envId))[0]?.status === 'firing' ? true : undefined
    },
    60_000,
    'crash loop alert',
  )
  await assertNotified(receiver, dataDir, ONCALL, 'crash_loop', 'firing', envId)
  const failed = await status()
  assert.equal(failed['status'], 'failed', JSON.stringify(failed))
  const failure = failed['failure'] as { reason: string; summary: string; deploymentId: string | null }
  assert.equal(failure.reason, 'crash_loop')
  assert.equal(failure.deploymentId, failed['currentDeploymentId'])
  assert.match(
    await platform.monitor.metrics.render(),
    new RegExp(`palisade_environment_failed\\{environment="${envId}"\\} 1`),
  )
  const auditOf = async (action: string) =>
    (await call('GET', `/v1/workspaces/${workspaceId}/audit-events?action=${action}`)).json[
      'items'
    ] as Array<{
      actor: { type: string }
      environment: string | null
      target: { id: string }
    }>
  const marks = await auditOf('environment.failed')
  assert.equal(marks.length, 1, 'marking the environment failed is one audit event')
  assert.equal(marks[0]!.actor.type, 'platform')
  assert.equal(marks[0]!.target.id, envId)
  // More rounds while it lasts: no second mark, no second alert.
  await round()
  assert.equal((await auditOf('environment.failed')).length, 1)
  assert.equal((await alertOf('crash_loop', envId)).length, 1)
  // Cleared by hand while the app still crash-loops: the next round marks it failed again.
  const byHand = await api('DELETE', `/v1/environments/${envId}/failure`)
  assert.equal(byHand.status, 200, byHand.body)
  assert.equal((await status())['status'], 'ok')
  assert.equal((await auditOf('environment.failure.clear')).length, 1)
  await round()
  assert.equal((await status())['status'], 'failed', 'still crash-looping: marked again')
  assert.equal((await auditOf('environment.failed')).length, 2)

  // The app comes back by itself: the crash loop alert resolves, the environment stays failed (a release that
  // crash-loops is not trusted again until a deployment succeeds).
  rmSync(flag, { recursive: true })
  await running()
  await eventually(
    async () => {
      await round()
      clock.advance(11_000)
      await round()
      return (await alertOf('crash_loop', envId))[0]?.status === 'resolved' ? true : undefined
    },
    60_000,
    'crash loop resolved',
  )
  await assertNotified(receiver, dataDir, ONCALL, 'crash_loop', 'resolved', envId)
  assert.equal((await status())['status'], 'failed')

  // A successful deployment clears the mark (one audit event), and the status API says so.
  const fixed = await deploy()
  await round()
  const cleared = await status()
  assert.equal(cleared['status'], 'ok', JSON.stringify(cleared))
  assert.equal(cleared['failure'], null)
  const recovered = await auditOf('environment.recovered')
  assert.equal(recovered.length, 1)
  assert.equal(recovered[0]!.actor.type, 'platform')
  assert.doesNotMatch(await platform.monitor.metrics.render(), /palisade_environment_failed\{/)
  assert.equal(cleared['currentDeploymentId'], fixed['id'])

  // 3. runtime_eol: an environment on node 18 (past its end of life by the shipped catalog's dates).
  const legacy = await api('POST', `/v1/projects/${String(project.json['id'])}/environments`, {
    name: 'legacy',
    runtime: 'node@18',
  })
  assert.equal(legacy.status, 201, legacy.body)
  const legacyId = legacy.json['id'] as string
  await round()
  assert.equal((await alertOf('runtime_eol', legacyId))[0]?.status, 'firing')
  const eol = await assertNotified(receiver, dataDir, ONCALL, 'runtime_eol', 'firing', legacyId)
  assert.match(eol.summary, /node 18, past its end of life \(2025-04-30\)/)
  assert.equal((await alertOf('runtime_eol', envId)).length, 0, 'node 24 is supported')
  assert.match(
    await platform.monitor.metrics.render(),
    new RegExp(
      `palisade_runtime_end_of_life_timestamp_seconds\\{environment="${legacyId}",runtime="node@18"\\} 1745971200`,
    ),
  )
  assert.equal((await api('PATCH', `/v1/environments/${legacyId}`, { runtime: 'node@24' })).status, 200)
  await round()
  assert.equal((await alertOf('runtime_eol', legacyId))[0]?.status, 'resolved')
  await assertNotified(receiver, dataDir, ONCALL, 'runtime_eol', 'resolved', legacyId)

  // 4. backup_missing: a schedule every hour, and no backup is made (the scheduler is not running here).
  const schedule = await api('PUT', `/v1/environments/${envId}/backup-schedule`, {
    enabled: true,
    everyHours: 1,
    keep: 2,
    files: false,
  })
  assert.equal(schedule.status, 200, schedule.body)
  clock.advance(90 * 60_000)
  await round()
  assert.equal((await alertOf('backup_missing', envId)).length, 0, 'not before twice the interval')
  clock.advance(31 * 60_000)
  await round()
  assert.equal((await alertOf('backup_missing', envId))[0]?.status, 'firing')
  await assertNotified(receiver, dataDir, ONCALL, 'backup_missing', 'firing', envId)
  // A backup succeeds: resolved.
  const made = await api('POST', `/v1/environments/${envId}/backups`, { files: false })
  assert.equal(made.status, 201, made.body)
  await eventually(
    async () =>
      (await api('GET', `/v1/backups/${String(made.json['id'])}`)).json['status'] === 'succeeded'
        ? true
        : undefined,
    60_000,
    'backup',
  )
  await round()
  assert.equal((await alertOf('backup_missing', envId))[0]?.status, 'resolved')
  await assertNotified(receiver, dataDir, ONCALL, 'backup_missing', 'resolved', envId)
  // The only backup is deleted: missing again (the schedule's start is older than twice its interval).
  assert.equal((await api('DELETE', `/v1/backups/${String(made.json['id'])}`)).status, 204)
  await round()
  const missing = await alertOf('backup_missing', envId)
  assert.equal(missing.length, 2)
  assert.equal(missing.filter((a) => a.status === 'firing').length, 1)
  assert.equal(
    (
      await api('PUT', `/v1/environments/${envId}/backup-schedule`, {
        enabled: false,
        everyHours: 1,
        keep: 2,
        files: false,
      })
    ).status,
    200,
  )

  // 5. certificate_expiry: the edge issues its certificate for the host on the first HTTPS request (90 days, by
  // the platform's clock). The rule is tuned to 30 days: it fires 65 days later (25 days left), before the
  // certificate is due for renewal (14 days left); 12 days later the monitor's round has the edge renew it, and
  // the alert resolves in the same round. The edge then serves the new certificate.
  const served = () =>
    new Promise<{ fingerprint: string; validTo: number }>((resolve, reject) => {
      const s = tlsConnect(
        { port: https.port, host: '127.0.0.1', servername: host, rejectUnauthorized: false },
        () => {
          const c = s.getPeerCertificate()
          s.end()
          resolve({ fingerprint: c.fingerprint256, validTo: Date.parse(c.valid_to) })
        },
      )
      s.on('error', reject)
    })
  const first = await served()
  assert.ok(
    Math.abs(first.validTo - (clock.now().getTime() + 90 * DAY)) < DAY,
    'a 90-day certificate by the platform clock',
  )
  await round()
  assert.equal(
    (await alertOf('certificate_expiry', `local_ca:${host}`)).length,
    0,
    'a new certificate is fine',
  )
  clock.advance(65 * DAY)
  await round()
  assert.equal((await alertOf('certificate_expiry', `local_ca:${host}`))[0]?.status, 'firing')
  const cert = await assertNotified(
    receiver,
    dataDir,
    ONCALL,
    'certificate_expiry',
    'firing',
    `local_ca:${host}`,
  )
  assert.match(
    cert.summary,
    new RegExp(`certificate for ${host.replaceAll('.', '\\.')} expires in (24|25)\\.\\d days`),
  )
  assert.equal((await served()).fingerprint, first.fingerprint, 'not renewed before its renewal window')
  clock.advance(12 * DAY)
  await round()
  const renewedAlerts = await alertOf('certificate_expiry', `local_ca:${host}`)
  assert.equal(renewedAlerts.length, 1, JSON.stringify(renewedAlerts))
  assert.equal(renewedAlerts[0]!.status, 'resolved')
  await assertNotified(receiver, dataDir, ONCALL, 'certificate_expiry', 'resolved', `local_ca:${host}`)
  const renewed = await served()
  assert.notEqual(renewed.fingerprint, first.fingerprint, 'the edge serves the renewed certificate')
  assert.ok(
    Math.abs(renewed.validTo - (clock.now().getTime() + 90 * DAY)) < DAY,
    'the renewed certificate runs 90 days from the renewal',
  )
  assert.match(
    await platform.monitor.metrics.render(),
    new RegExp(
      `palisade_certificate_expiry_timestamp_seconds\\{host="${host.replaceAll('.', '\\.')}",source="local_ca"\\} ${Math.floor(renewed.validTo / 1000)}`,
    ),
  )
  assert.ok(
    receiver.received.every((r) => r.verdict.ok || r.verdict.reason === 'replay'),
    'every delivery verified',
  )
})

/**
 * backup_failed from a real failure: the environment's Redis server stops answering (SIGSTOP), the backup times
 * out and is recorded failed; the alert reaches the signed webhook and the outbox.
 */
test('a backup that fails for real (its Redis server hangs) fires backup_failed to e-mail and a signed webhook', async (t) => {
  const tp = await startPlatform(t, 'sqlite', { webhooksAllowPrivate: 'on' })
  t.after(() => removeSandboxes())
  const { token, workspaceId } = await setUpOwner(tp)
  const receiver = await startAlertReceiver(t)
  await channels(tp, token, workspaceId, receiver)
  await tp.call('PUT', `/v1/workspaces/${workspaceId}/alert-rules/disk`, { token, body: { muted: true } })
  const envId = await createEnvironment(tp, token, workspaceId, 'shop')
  const redis = await provision(tp, token, envId, { type: 'redis' })
  const top = redis.process?.pid
  assert.ok(top, 'the Redis server runs')
  const servers = processesNamed(top, 'redis-server')
  assert.equal(servers.length, 1, 'one redis-server process')
  const pid = servers[0]!
  const resume = () => {
    try {
      process.kill(pid, 'SIGCONT')
    } catch {
      // already gone
    }
  }
  t.after(resume)
  // The server hangs (it stops answering, as a stuck or swapped-out server does).
  process.kill(pid, 'SIGSTOP')
  const made = await tp.call('POST', `/v1/environments/${envId}/backups`, { token, body: { files: false } })
  assert.equal(made.statusCode, 201, made.body)
  const id = (made.json() as { id: string }).id
  const done = await eventually(
    async () => {
      const b = (await tp.call('GET', `/v1/backups/${id}`, { token })).json() as {
        status: string
        reason: string | null
      }
      return b.status === 'running' ? undefined : b
    },
    120_000,
    'backup finished',
  )
  assert.equal(done.status, 'failed', JSON.stringify(done))
  resume()
  await tp.platform.monitor.tick()
  await tp.platform.monitor.tick()
  const alerts = (
    (await tp.call('GET', `/v1/workspaces/${workspaceId}/alerts`, { token })).json() as { items: AlertView[] }
  ).items
  const failed = alerts.filter((a) => a.rule === 'backup_failed')
  assert.equal(failed.length, 1, JSON.stringify(alerts))
  assert.equal(failed[0]!.subject, id)
  assert.equal(failed[0]!.status, 'resolved', 'an event alert is over once notified')
  const n = await assertNotified(receiver, tp.platform.config.dataDir, ONCALL, 'backup_failed', 'firing', id)
  assert.match(n.summary, /a backup of environment main failed: .*redis/i)
  // Fires once: more rounds send nothing more about it.
  await tp.platform.monitor.tick()
  assert.equal(receiver.notifications().filter((x) => x.rule === 'backup_failed').length, 1)
})
