import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { test, type TestContext } from 'node:test'
import { createSecretBox } from '../src/shared/secret-box.js'
import { fakeEmail, fakeHash, fakeName, isFakeEmail } from '../src/services/index.js'
import { setUpOwner, startPlatform, STORE_KINDS, type TestPlatform } from './support/platform.js'
import { assertOneEvent, countEvents, declaredActions } from './support/audit-events.js'
import { SYNC_AUDITED } from './support/audit-elsewhere.js'
import { addMember } from './support/members.js'
import {
  createEnvironment,
  environmentUser,
  mariadbSql,
  provision,
  psqlSql,
  removeSandboxes,
  type EnvironmentUser,
} from './services-helpers.js'

const asRoot = process.getuid?.() === 0
/** startPlatform's master key (test/support/platform.ts). */
const MASTER_KEY = Buffer.from('a'.repeat(64), 'hex')

interface SyncView {
  id: string
  environmentId: string
  sourceEnvironmentId: string
  status: string
  reason: string | null
  services: string[]
  files: boolean
  rulesApplied: number
  backupId: string | null
}

interface ErrorView {
  error: { code: string; message: string; details?: Array<{ field: string; message: string }> }
}

async function waitSync(tp: TestPlatform, token: string, id: string): Promise<SyncView> {
  const deadline = Date.now() + 300_000
  for (;;) {
    const s = (await tp.call('GET', `/v1/syncs/${id}`, { token })).json() as SyncView
    if (s.status !== 'running') return s
    assert.ok(Date.now() < deadline, 'sync still running')
    await new Promise((r) => setTimeout(r, 250))
  }
}

async function environment(
  tp: TestPlatform,
  token: string,
  projectId: string,
  name: string,
  criticality: string,
): Promise<string> {
  const e = await tp.call('POST', `/v1/projects/${projectId}/environments`, {
    token,
    body: { name, criticality },
  })
  assert.equal(e.statusCode, 201, e.body)
  return (e.json() as { id: string }).id
}

const USERS = 60

test(
  'sync production → staging with anonymization: every e-mail in staging is fake, row counts match, production unchanged',
  { skip: asRoot ? false : 'needs root: services run as the environment user' },
  async (t: TestContext) => {
    const tp = await startPlatform(t, 'sqlite')
    const created: string[] = []
    t.after(() => removeSandboxes(created))
    const { token, workspaceId } = await setUpOwner(tp)
    const project = await tp.call('POST', `/v1/workspaces/${workspaceId}/projects`, {
      token,
      body: { name: 'shop' },
    })
    const projectId = (project.json() as { id: string }).id
    const prod = await environment(tp, token, projectId, 'production', 'production')
    const staging = await environment(tp, token, projectId, 'staging', 'staging')
    created.push(prod, staging)
    await Promise.all(
      [prod, staging].flatMap((env) => [
        provision(tp, token, env, { type: 'mariadb' }),
        provision(tp, token, env, { type: 'postgresql' }),
      ]),
    )
    const pv = await tp.platform.services.connectionVariables(prod)
    const sv = await tp.platform.services.connectionVariables(staging)
    const pu = environmentUser(tp, prod)
    const su = environmentUser(tp, staging)
    const maria = async (vars: Record<string, string>, user: EnvironmentUser, sql: string) => {
      const r = await mariadbSql(vars, sql, user)
      assert.equal(r.code, 0, r.out)
      return r.out.trim()
    }
    const pgq = async (vars: Record<string, string>, user: EnvironmentUser, sql: string) => {
      const r = await psqlSql(vars, sql, user)
      assert.equal(r.code, 0, r.out)
      return r.out.trim()
    }

    // Production: users with e-mails, names and a customer reference, orders joined by e-mail.
    const users = Array.from(
      { length: USERS },
      (_, i) => `(${i}, 'person${i}@customer.example', 'Person ${i} Real', 'CR-${i}', '2020-01-01 00:00:00')`,
    ).join(',')
    const orders = Array.from(
      { length: USERS * 2 },
      (_, i) => `(${i}, 'person${i % USERS}@customer.example', ${i * 3})`,
    ).join(',')
    await maria(
      pv,
      pu,
      `CREATE TABLE users (id INT PRIMARY KEY, email VARCHAR(255) NOT NULL UNIQUE, name VARCHAR(100), customer_ref VARCHAR(64),
         updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP);
       INSERT INTO users VALUES ${users};
       CREATE TABLE orders (id INT PRIMARY KEY, user_email VARCHAR(255), total INT);
       INSERT INTO orders VALUES ${orders};
       CREATE TABLE newsletter (email VARCHAR(20));`,
    )
    await pgq(
      pv,
      pu,
      `CREATE TABLE accounts (id int primary key, email text not null, full_name text);
       INSERT INTO accounts SELECT g, 'acct' || g || '@customer.example', 'Account ' || g FROM generate_series(1, ${USERS}) g;`,
    )
    // Staging: older data of its own.
    await maria(sv, su, `CREATE TABLE staging_only (x INT); INSERT INTO staging_only VALUES (1);`)
    await pgq(sv, su, `CREATE TABLE staging_only (x int); INSERT INTO staging_only VALUES (1);`)

    const mariaSum = (vars: Record<string, string>, user: EnvironmentUser) =>
      maria(
        vars,
        user,
        `SELECT (SELECT COUNT(*) FROM users), (SELECT MD5(GROUP_CONCAT(id, email, IFNULL(name,''), customer_ref, updated_at ORDER BY id)) FROM users),
                (SELECT MD5(GROUP_CONCAT(id, user_email, total ORDER BY id)) FROM orders)`,
      )
    const pgSum = (vars: Record<string, string>, user: EnvironmentUser) =>
      pgq(
        vars,
        user,
        `SELECT count(*) || ' ' || md5(string_agg(id || email || coalesce(full_name, ''), ',' ORDER BY id)) FROM accounts`,
      )
    const prodBefore = { maria: await mariaSum(pv, pu), pg: await pgSum(pv, pu) }
    const stagingTables = () => maria(sv, su, 'SHOW TABLES')
    assert.equal(await stagingTables(), 'staging_only')

    // A rule naming a column no service has is refused when it is set (test/anonymization-set-check.test.ts).
    const missing = await tp.call('PUT', `/v1/projects/${projectId}/anonymization`, {
      token,
      body: { rules: [{ service: 'mariadb', table: 'users', column: 'mail', method: 'hash' }] },
    })
    assert.equal(missing.statusCode, 422, missing.body)
    assert.match((missing.json() as ErrorView).error.details?.[0]?.message ?? '', /no column mail/)
    // A rule that does not fit the source's schema: 422 naming it, nothing copied, no event.
    const bad = await tp.call('PUT', `/v1/projects/${projectId}/anonymization`, {
      token,
      body: {
        rules: [
          { service: 'mariadb', table: 'users', column: 'email', method: 'fake-email' },
          { service: 'mariadb', table: 'newsletter', column: 'email', method: 'fake-email' },
        ],
      },
    })
    assert.equal(bad.statusCode, 200, bad.body)
    const events = await countEvents(tp.platform)
    const refused = await tp.call('POST', `/v1/environments/${staging}/sync`, { token, body: { from: prod } })
    assert.equal(refused.statusCode, 422, refused.body)
    const err = refused.json() as ErrorView
    assert.equal(err.error.code, 'rules_mismatch')
    assert.deepEqual(
      err.error.details?.map((d) => d.field),
      ['rules[1]'],
    )
    assert.match(err.error.details?.[0]?.message ?? '', /holds 20/)
    assert.equal(await countEvents(tp.platform), events)
    assert.equal(await stagingTables(), 'staging_only')
    assert.deepEqual((await tp.call('GET', `/v1/environments/${staging}/syncs`, { token })).json(), {
      items: [],
      nextCursor: null,
    })

    // The real rules.
    const rules = [
      { service: 'mariadb', table: 'users', column: 'email', method: 'fake-email' },
      { service: 'mariadb', table: 'users', column: 'name', method: 'fake-name' },
      { service: 'mariadb', table: 'users', column: 'customer_ref', method: 'hash' },
      { service: 'mariadb', table: 'orders', column: 'user_email', method: 'fake-email' },
      { service: 'mariadb', table: 'orders', column: 'total', method: 'keep' },
      { service: 'mariadb', table: 'newsletter', column: 'email', method: 'null' },
      { service: 'postgresql', table: 'accounts', column: 'email', method: 'fake-email' },
      {
        service: 'postgresql',
        table: 'accounts',
        column: 'full_name',
        method: 'constant',
        value: "O'Redacted",
      },
    ]
    const put = await tp.call('PUT', `/v1/projects/${projectId}/anonymization`, { token, body: { rules } })
    assert.equal(put.statusCode, 200, put.body)
    assert.deepEqual(
      (await tp.call('GET', `/v1/projects/${projectId}/anonymization`, { token })).json(),
      put.json(),
    )

    // A session of the staging app holds a table lock: replacing staging's database waits for it, which keeps
    // the sync in its replace phase long enough to watch maintenance mode from outside.
    const locker = spawn(
      'mariadb',
      [
        '--no-defaults',
        `--socket=${sv['MYSQL_UNIX_PORT']}`,
        `--user=${sv['MYSQL_USER']}`,
        '--execute=LOCK TABLES staging_only READ; SELECT SLEEP(120)',
        sv['MYSQL_DATABASE'] ?? '',
      ],
      {
        env: { PATH: '/usr/bin:/bin', MYSQL_PWD: sv['MYSQL_PASSWORD'] ?? '' },
        cwd: '/',
        ...su,
        stdio: 'ignore',
      },
    )
    const lockerGone = new Promise((r) => locker.once('exit', r))
    t.after(() => locker.kill('SIGKILL'))
    const maintenance = async () =>
      (
        (await tp.call('GET', `/v1/environments/${staging}/status`, { token })).json() as {
          maintenance: boolean
        }
      ).maintenance
    assert.equal(await maintenance(), false)

    const before = await countEvents(tp.platform)
    const started = await tp.call('POST', `/v1/environments/${staging}/sync`, { token, body: { from: prod } })
    assert.equal(started.statusCode, 202, started.body)
    const s0 = started.json() as SyncView
    assert.equal(s0.status, 'running')
    assert.deepEqual(s0.services, ['mariadb', 'postgresql'])
    assert.equal(s0.rulesApplied, rules.length)
    // A second sync of the same environment while this one runs is refused.
    const again = await tp.call('POST', `/v1/environments/${staging}/sync`, { token, body: { from: prod } })
    assert.equal(again.statusCode, 409, again.body)
    const watchUntil = Date.now() + 120_000
    while (!(await maintenance())) {
      assert.ok(Date.now() < watchUntil, 'the target never went into maintenance')
      await new Promise((r) => setTimeout(r, 50))
    }
    assert.equal(
      ((await tp.call('GET', `/v1/syncs/${s0.id}`, { token })).json() as SyncView).status,
      'running',
    )
    locker.kill('SIGKILL')
    await lockerGone
    const s = await waitSync(tp, token, s0.id)
    assert.equal(s.status, 'succeeded', s.reason ?? '')
    assert.ok(s.backupId)

    // Exactly one audit event for the sync (its backup is part of it), naming source, services and rules.
    const key0 = 'post /v1/environments/{id}/sync'
    await assertOneEvent(tp.platform, key0, started, before, {
      action: (await declaredActions(tp.platform))(key0),
      targetId: s.id,
    })
    assert.deepEqual([key0], [...SYNC_AUDITED], 'every route listed for this suite was called')
    const ev = await tp.platform.store.db
      .selectFrom('audit_events')
      .selectAll()
      .where('request_id', '=', String(started.headers['x-request-id']))
      .executeTakeFirstOrThrow()
    assert.equal(ev.action, 'environment.sync')
    assert.equal(ev.target_id, s.id)
    assert.equal(ev.environment_id, staging)
    const changes = JSON.parse(ev.changes) as Record<string, { after: unknown }>
    assert.equal(changes['from']?.after, prod)
    assert.deepEqual(changes['services']?.after, ['mariadb', 'postgresql'])
    assert.ok((changes['rulesApplied']?.after as string[]).includes('mariadb/mariadb:users.email=fake-email'))
    assert.ok(!ev.changes.includes('Redacted'), 'constant values stay out of the audit log')

    // Staging: same row counts, every e-mail fake, joins kept, staging's own old data replaced.
    assert.equal(await stagingTables(), ['newsletter', 'orders', 'users'].join('\n'))
    assert.equal(await maria(sv, su, 'SELECT COUNT(*) FROM users'), String(USERS))
    assert.equal(await maria(sv, su, 'SELECT COUNT(*) FROM orders'), String(USERS * 2))
    const emails = (
      await maria(sv, su, 'SELECT email FROM users UNION ALL SELECT user_email FROM orders')
    ).split('\n')
    assert.equal(emails.length, USERS * 3)
    assert.deepEqual(
      emails.filter((e) => !isFakeEmail(e)),
      [],
    )
    assert.equal(
      await maria(sv, su, 'SELECT COUNT(*) FROM orders o JOIN users u ON u.email = o.user_email'),
      String(USERS * 2),
    )
    assert.equal(
      await maria(
        sv,
        su,
        "SELECT COUNT(*) FROM users WHERE email LIKE '%customer.example%' OR name LIKE '%Real%' OR customer_ref LIKE 'CR-%'",
      ),
      '0',
    )
    // ON UPDATE CURRENT_TIMESTAMP columns keep their values.
    assert.equal(
      await maria(sv, su, "SELECT COUNT(*) FROM users WHERE updated_at = '2020-01-01 00:00:00'"),
      String(USERS),
    )
    assert.equal(await pgq(sv, su, 'SELECT count(*) FROM accounts'), String(USERS))
    const pgEmails = (await pgq(sv, su, 'SELECT email FROM accounts')).split('\n')
    assert.deepEqual(
      pgEmails.filter((e) => !isFakeEmail(e)),
      [],
    )
    assert.equal(await pgq(sv, su, 'SELECT DISTINCT full_name FROM accounts'), "O'Redacted")
    assert.match((await psqlSql(sv, 'SELECT 1 FROM staging_only', su)).out, /does not exist/)
    // The app can still write to the copy (grants are intact).
    await pgq(sv, su, "INSERT INTO accounts VALUES (1000, 'new@staging.test', NULL)")
    await maria(sv, su, "INSERT INTO users (id, email) VALUES (1000, 'new@staging.test')")

    // The SQL generators agree with the reference ones, with the project's own key.
    const row = await tp.platform.store.db
      .selectFrom('anonymization_rules')
      .select('hash_key')
      .where('project_id', '=', projectId)
      .executeTakeFirstOrThrow()
    const key = Buffer.from(
      createSecretBox(MASTER_KEY).open(row.hash_key, `anonymization:${projectId}:key`),
      'base64',
    )
    assert.equal(
      await maria(sv, su, "SELECT CONCAT_WS('|', email, name, customer_ref) FROM users WHERE id = 7"),
      [
        fakeEmail(key, 'person7@customer.example'),
        fakeName(key, 'Person 7 Real'),
        fakeHash(key, 'CR-7'),
      ].join('|'),
    )
    assert.equal(
      await pgq(sv, su, 'SELECT email FROM accounts WHERE id = 3'),
      fakeEmail(key, 'acct3@customer.example'),
    )

    // Production is unchanged.
    assert.equal(await mariaSum(pv, pu), prodBefore.maria)
    assert.equal(await pgSum(pv, pu), prodBefore.pg)

    // Staging's previous data is a backup of staging, with no event of its own; maintenance is off again.
    const backups = (await tp.call('GET', `/v1/environments/${staging}/backups`, { token })).json() as {
      items: Array<{ id: string; status: string }>
    }
    assert.deepEqual(
      backups.items.map((b) => [b.id, b.status]),
      [[s.backupId, 'succeeded']],
    )
    const backupEvents = await tp.platform.store.db
      .selectFrom('audit_events')
      .select('action')
      .where('target_id', '=', s.backupId)
      .execute()
    assert.deepEqual(backupEvents, [])
    const status = (await tp.call('GET', `/v1/environments/${staging}/status`, { token })).json() as {
      maintenance: boolean
    }
    assert.equal(status.maintenance, false)
    assert.deepEqual(
      (
        (await tp.call('GET', `/v1/environments/${staging}/syncs`, { token })).json() as { items: SyncView[] }
      ).items.map((x) => x.id),
      [s.id],
    )

    // Anonymization that fails inside the scratch server (a constant on a UNIQUE column of many rows):
    // the sync fails and staging keeps what it had.
    await tp.call('PUT', `/v1/projects/${projectId}/anonymization`, {
      token,
      body: {
        rules: [
          {
            service: 'mariadb',
            table: 'users',
            column: 'email',
            method: 'constant',
            value: 'same@example.invalid',
          },
        ],
      },
    })
    const stagingBefore = await mariaSum(sv, su)
    const failing = await tp.call('POST', `/v1/environments/${staging}/sync`, {
      token,
      body: { from: prod, services: ['mariadb'] },
    })
    assert.equal(failing.statusCode, 202, failing.body)
    const f = await waitSync(tp, token, (failing.json() as SyncView).id)
    assert.equal(f.status, 'failed')
    assert.match(f.reason ?? '', /Duplicate entry/)
    assert.ok(!(f.reason ?? '').includes('same@'), 'values quoted by the server stay out of the reason')
    assert.equal(f.backupId, null, 'nothing was changed, so no backup was needed')
    assert.equal(await mariaSum(sv, su), stagingBefore)
    assert.equal(await mariaSum(pv, pu), prodBefore.maria)

    // Replacing the target fails half-way (MariaDB already replaced, then PostgreSQL refuses the copy: rules
    // that break a foreign key, which PostgreSQL checks when the constraint is re-created): the target's
    // backup is restored, so MariaDB is back as it was too.
    await pgq(
      pv,
      pu,
      `ALTER TABLE accounts ADD UNIQUE (email);
       CREATE TABLE logins (id int primary key, account_email text REFERENCES accounts (email));
       INSERT INTO logins SELECT g, 'acct' || g || '@customer.example' FROM generate_series(1, 5) g;`,
    )
    const put2 = await tp.call('PUT', `/v1/projects/${projectId}/anonymization`, {
      token,
      body: {
        rules: [
          ...rules,
          { service: 'postgresql', table: 'logins', column: 'account_email', method: 'hash' },
        ],
      },
    })
    assert.equal(put2.statusCode, 200, put2.body)
    const stagingPg = () =>
      pgq(sv, su, "SELECT count(*) || ' ' || string_agg(email, ',' ORDER BY id) FROM accounts")
    const before2 = { maria: await mariaSum(sv, su), pg: await stagingPg() }
    const broken = await tp.call('POST', `/v1/environments/${staging}/sync`, { token, body: { from: prod } })
    assert.equal(broken.statusCode, 202, broken.body)
    const b = await waitSync(tp, token, (broken.json() as SyncView).id)
    assert.equal(b.status, 'failed')
    assert.match(b.reason ?? '', /foreign key/)
    assert.match(b.reason ?? '', new RegExp(`the target was restored from backup ${b.backupId ?? 'none'}`))
    assert.equal(await mariaSum(sv, su), before2.maria)
    assert.equal(await stagingPg(), before2.pg)
    // The backup and its restore are steps of the failed sync: neither writes an event of its own.
    const rollbackEvents = await tp.platform.store.db
      .selectFrom('audit_events')
      .select('action')
      .where('target_id', '=', b.backupId!)
      .execute()
    assert.deepEqual(rollbackEvents, [])
    assert.match(before2.pg, new RegExp(`^${USERS + 1} `))
    assert.equal(
      (
        (await tp.call('GET', `/v1/environments/${staging}/status`, { token })).json() as {
          maintenance: boolean
        }
      ).maintenance,
      false,
    )
  },
)

for (const kind of STORE_KINDS)
  test(`[${kind}] sync refuses another project, another workspace, itself, nothing to copy and bad input; rules round-trip`, async (t: TestContext) => {
    const tp = await startPlatform(t, kind)
    const { token, workspaceId } = await setUpOwner(tp)
    const a = await createEnvironment(tp, token, workspaceId, 'shop', 'main')
    const b = await createEnvironment(tp, token, workspaceId, 'blog', 'main')
    const p = ((await tp.call('GET', `/v1/environments/${a}`, { token })).json() as { projectId: string })
      .projectId
    const a2 = await environment(tp, token, p, 'staging', 'staging')
    t.after(() => removeSandboxes([a, b, a2]))
    const other = await tp.call('POST', `/v1/environments/${b}/sync`, { token, body: { from: a } })
    assert.equal(other.statusCode, 422, other.body)
    assert.equal((other.json() as ErrorView).error.code, 'other_project')
    const self = await tp.call('POST', `/v1/environments/${a}/sync`, { token, body: { from: a } })
    assert.equal((self.json() as ErrorView).error.code, 'same_environment')
    const none = await tp.call('POST', `/v1/environments/${a2}/sync`, {
      token,
      body: { from: a, files: true },
    })
    assert.equal(none.statusCode, 422, none.body)
    assert.equal((none.json() as ErrorView).error.code, 'nothing_to_sync')
    const missing = await tp.call('POST', `/v1/environments/${a2}/sync`, {
      token,
      body: { from: a, services: ['mariadb'] },
    })
    assert.equal(missing.statusCode, 400, missing.body)
    // Another workspace's environment is invisible: 404, as for an id that does not exist.
    const ws2 = await tp.call('POST', '/v1/workspaces', { token, body: { name: 'globex' } })
    const ws2Id = (ws2.json() as { id: string }).id
    const foreign = await createEnvironment(tp, token, ws2Id, 'shop', 'main')
    t.after(() => removeSandboxes([foreign]))
    // The owner belongs to both: different project → 422; a stranger's source is 404.
    assert.equal(
      (await tp.call('POST', `/v1/environments/${a}/sync`, { token, body: { from: foreign } })).statusCode,
      422,
    )
    assert.equal(
      (
        await tp.call('POST', `/v1/environments/${a}/sync`, {
          token,
          body: { from: 'env_aaaaaaaaaaaaaaaaaaaa' },
        })
      ).statusCode,
      404,
    )
    // Copying out of production needs the production-level role, even into staging the developer controls.
    const live = await environment(tp, token, p, 'live', 'production')
    t.after(() => removeSandboxes([live]))
    const dev = await addMember(tp, token, workspaceId, 'dev@example.com', 'developer')
    const fromProduction = await tp.call('POST', `/v1/environments/${a2}/sync`, {
      token: dev.token,
      body: { from: live },
    })
    assert.equal(fromProduction.statusCode, 403, fromProduction.body)
    // Bad input.
    for (const body of [
      {},
      { from: a, extra: 1 },
      { from: a, services: ['Bad Name'] },
      { from: 'x'.repeat(101) },
      { from: a, files: 'yes' },
    ]) {
      const r = await tp.call('POST', `/v1/environments/${a2}/sync`, { token, body })
      assert.equal(r.statusCode, 400, JSON.stringify(body))
    }
    for (const rules of [
      [{ service: 'redis', table: 't', column: 'c', method: 'hash' }],
      [{ service: 'mariadb', table: 't;drop', column: 'c', method: 'hash' }],
      [{ service: 'mariadb', table: 't', column: 'c', method: 'hash', value: 'x' }],
      [{ service: 'mariadb', table: 't', column: 'c', method: 'constant' }],
      [
        { service: 'mariadb', table: 't', column: 'c', method: 'keep' },
        { service: 'mariadb', table: 't', column: 'c', method: 'null' },
      ],
      [{ service: 'mariadb', table: 't', column: 'c', method: 'constant', value: 'a\nb' }],
      Array.from({ length: 201 }, (_, i) => ({
        service: 'mariadb',
        table: 't',
        column: `c${i}`,
        method: 'keep',
      })),
    ]) {
      const r = await tp.call('PUT', `/v1/projects/${p}/anonymization`, { token, body: { rules } })
      assert.equal(r.statusCode, 400, `${JSON.stringify(rules).slice(0, 120)} → ${r.body}`)
    }
    assert.deepEqual(
      ((await tp.call('GET', `/v1/projects/${p}/anonymization`, { token })).json() as { rules: unknown[] })
        .rules,
      [],
    )
    const good = [
      { service: 'postgresql', table: 'people', column: 'mail', method: 'fake-email' },
      { service: 'mariadb', table: 'users', column: 'note', method: 'constant', value: 'n/a' },
    ]
    const saved = await tp.call('PUT', `/v1/projects/${p}/anonymization`, { token, body: { rules: good } })
    assert.equal(saved.statusCode, 200, saved.body)
    const got = (await tp.call('GET', `/v1/projects/${p}/anonymization`, { token })).json() as {
      rules: unknown[]
      updatedAt: string
    }
    assert.deepEqual(got.rules, good)
    assert.ok(got.updatedAt)
    assert.equal(
      (await tp.call('GET', '/v1/projects/prj_aaaaaaaaaaaaaaaaaaaa/anonymization', { token })).statusCode,
      404,
    )
  })
