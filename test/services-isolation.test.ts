import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { after, before, describe, test, type TestContext } from 'node:test'
import { respCall } from '../src/services/index.js'
import { setUpOwner, startPlatform, type TestPlatform } from './support/platform.js'
import {
  createEnvironment,
  environmentUser,
  mariadbSql,
  provision,
  removeSandboxes,
  psqlSql,
  redisCli,
  waitForStatus,
  type ServiceView,
  type EnvironmentUser,
} from './services-helpers.js'

/**
 * Real servers: one MariaDB, Redis and PostgreSQL in each of two environments (A and B), reached with the
 * real clients configured only by the variables the environment's processes receive.
 */
const asRoot = process.getuid?.() === 0

describe(
  'services: private MariaDB, Redis and PostgreSQL per environment',
  { skip: asRoot ? false : 'needs root (per-environment system users)' },
  () => {
    let tp: TestPlatform
    let token: string
    let envA: string
    let envB: string
    const svc: Record<string, ServiceView> = {}
    let varsA: Record<string, string>
    let varsB: Record<string, string>
    let userA: EnvironmentUser
    let userB: EnvironmentUser

    const cleanups: Array<() => Promise<void>> = []
    after(async () => {
      for (const fn of cleanups.reverse()) await fn()
      removeSandboxes()
    })
    before(async () => {
      // startPlatform only needs `after` from its context: the platform lives as long as the suite.
      tp = await startPlatform(
        { after: (fn: () => Promise<void>) => cleanups.push(fn) } as unknown as TestContext,
        'sqlite',
      )
      ;({ token } = await setUpOwner(tp))
      const ws = (
        (await tp.call('GET', '/v1/workspaces', { token })).json() as { items: Array<{ id: string }> }
      ).items[0]!.id
      envA = await createEnvironment(tp, token, ws, 'shop')
      envB = await createEnvironment(tp, token, ws, 'blog')
      const created = await Promise.all(
        [envA, envB].flatMap((env) =>
          (['mariadb', 'redis', 'postgresql'] as const).map(
            async (type) =>
              [`${env === envA ? 'A' : 'B'}.${type}`, await provision(tp, token, env, { type })] as const,
          ),
        ),
      )
      for (const [k, v] of created) svc[k] = v
      varsA = await tp.platform.services.connectionVariables(envA)
      varsB = await tp.platform.services.connectionVariables(envB)
      userA = environmentUser(tp, envA)
      userB = environmentUser(tp, envB)
    })

    test('the environment gets DATABASE_URL, REDIS_URL and the MYSQL_*, PG* and REDIS_* variables', () => {
      // Both relational services were provisioned at once: DATABASE_URL names the first one created.
      assert.match(
        varsA['SERVICE_MARIADB_URL'] ?? '',
        /^mysql:\/\/u[a-z0-9]+:[a-z0-9]{32}@localhost\/app\?socket=/,
      )
      assert.match(
        varsA['SERVICE_POSTGRESQL_URL'] ?? '',
        /^postgresql:\/\/u[a-z0-9]+:[a-z0-9]{32}@localhost\/app\?host=/,
      )
      assert.ok(
        [varsA['SERVICE_MARIADB_URL'], varsA['SERVICE_POSTGRESQL_URL']].includes(varsA['DATABASE_URL']),
        "DATABASE_URL is one of the environment's databases",
      )
      assert.match(varsA['REDIS_URL'] ?? '', /^redis:\/\/u[a-z0-9]+:[a-z0-9]{32}@localhost\/0\?path=%2F/)
      for (const k of [
        'MYSQL_UNIX_PORT',
        'MYSQL_USER',
        'MYSQL_PASSWORD',
        'MYSQL_DATABASE',
        'PGHOST',
        'PGUSER',
        'PGPASSWORD',
        'PGDATABASE',
        'REDIS_SOCKET',
        'SERVICE_POSTGRESQL_URL',
      ]) {
        assert.ok(varsA[k], `${k} is set`)
      }
      assert.notEqual(varsA['MYSQL_PASSWORD'], varsB['MYSQL_PASSWORD'])
      assert.notEqual(varsA['MYSQL_USER'], varsB['MYSQL_USER'])
    })

    test('the app user reads and writes its MariaDB database with the injected variables', async () => {
      const r = await mariadbSql(
        varsA,
        'CREATE TABLE t (v INT); INSERT INTO t VALUES (41), (1); SELECT SUM(v) FROM t;',
        userA,
      )
      assert.equal(r.code, 0, r.out)
      assert.equal(r.out.trim(), '42')
    })

    test('the MariaDB app user is limited to its own database and cannot grant or read the grant tables', async () => {
      const r = await mariadbSql(varsA, 'SELECT COUNT(*) FROM mysql.user', userA)
      assert.notEqual(r.code, 0)
      assert.match(r.out, /denied/i)
      const g = await mariadbSql(varsA, 'CREATE DATABASE other', userA)
      assert.match(g.out, /denied/i)
    })

    test('MariaDB has no anonymous user, no remote root and no TCP listener', async () => {
      const anon = await mariadbSql({ ...varsA, MYSQL_USER: '', MYSQL_PASSWORD: '' }, 'SELECT 1', userA)
      assert.match(anon.out, /denied/i)
      const root = await mariadbSql({ ...varsA, MYSQL_USER: 'root', MYSQL_PASSWORD: '' }, 'SELECT 1', userA)
      assert.match(root.out, /denied/i)
      const access = await tp.platform.services.adminAccess(svc['A.mariadb']!.id)
      assert.ok(access)
      const users = await mariadbSql(
        {
          MYSQL_UNIX_PORT: varsA['MYSQL_UNIX_PORT']!,
          MYSQL_USER: 'root',
          MYSQL_PASSWORD: access.creds.adminPassword,
          MYSQL_DATABASE: 'mysql',
        },
        "SELECT CONCAT(User, '@', Host) FROM mysql.user ORDER BY 1; SELECT @@skip_networking;",
      )
      assert.equal(users.code, 0, users.out)
      assert.deepEqual(
        users.out.trim().split('\n').sort(),
        ['1', `${varsA['MYSQL_USER']}@localhost`, 'mariadb.sys@localhost', 'root@localhost'].sort(),
      )
    })

    test('wrong MariaDB and PostgreSQL passwords are refused', async () => {
      const m = await mariadbSql({ ...varsA, MYSQL_PASSWORD: 'wrong' }, 'SELECT 1', userA)
      assert.match(m.out, /denied/i)
      const p = await psqlSql({ ...varsA, PGPASSWORD: 'wrong' }, 'SELECT 1', userA)
      assert.notEqual(p.code, 0)
      assert.match(p.out, /password authentication failed/)
    })

    test('the app role owns its PostgreSQL database and cannot connect to the others', async () => {
      const r = await psqlSql(
        varsA,
        "CREATE TABLE t (v int); INSERT INTO t VALUES (7); SELECT v FROM t; SELECT pg_catalog.pg_get_userbyid(datdba) = current_user FROM pg_database WHERE datname = 'app';",
        userA,
      )
      assert.equal(r.code, 0, r.out)
      assert.deepEqual(r.out.trim().split('\n'), ['7', 't'])
      const other = await psqlSql({ ...varsA, PGDATABASE: 'postgres' }, 'SELECT 1', userA)
      assert.notEqual(other.code, 0)
      assert.match(other.out, /permission denied/)
    })

    test('the Redis app user works, while the default user, FLUSHALL, CONFIG, KEYS and DEBUG are refused', async () => {
      const ok = await redisCli(varsA, ['SET', 'greeting', 'hello'], userA)
      assert.equal(ok.out.trim(), 'OK', ok.out)
      assert.equal((await redisCli(varsA, ['GET', 'greeting'], userA)).out.trim(), 'hello')
      for (const cmd of [
        ['FLUSHALL'],
        ['FLUSHDB'],
        ['CONFIG', 'GET', 'dir'],
        ['KEYS', '*'],
        ['DEBUG', 'SLEEP', '0'],
        ['SHUTDOWN'],
        ['MODULE', 'LIST'],
      ]) {
        const r = await redisCli(varsA, cmd, userA)
        // NOPERM from the ACL; DEBUG and MODULE are also switched off for everyone ("not allowed").
        assert.match(r.out, /NOPERM|not allowed/, `${cmd[0]} → ${r.out}`)
      }
      assert.equal(
        (await redisCli(varsA, ['GET', 'greeting'], userA)).out.trim(),
        'hello',
        'the data survived',
      )
      const [ping] = await respCall(varsA['REDIS_SOCKET']!, [['PING']])
      assert.match(JSON.stringify(ping), /NOAUTH/)
      const [auth] = await respCall(varsA['REDIS_SOCKET']!, [['AUTH', 'default', '']])
      assert.match(JSON.stringify(auth), /WRONGPASS/)
      const wrong = await redisCli({ ...varsA, REDIS_PASSWORD: 'wrong' }, ['PING'], userA)
      assert.match(wrong.out, /WRONGPASS/)
    })

    test("another environment's process cannot open this environment's sockets (even with the right passwords)", async () => {
      const m = await mariadbSql(varsA, 'SELECT 1', userB)
      assert.notEqual(m.code, 0)
      assert.match(m.out, /Can't connect|Permission denied|\(13\)/i)
      // B's processes run in B's sandbox, where A's services directory does not exist at all.
      const p = await psqlSql(varsA, 'SELECT 1', userB)
      assert.notEqual(p.code, 0)
      assert.match(p.out, /Permission denied|No such file/i)
      const r = await redisCli(varsA, ['PING'], userB)
      assert.match(r.out, /Permission denied|Could not connect/i)
    })

    test("this environment's credentials do not work on another environment's servers", async () => {
      const crossed = (family: string): Record<string, string> => {
        // B's sockets, A's users and passwords.
        const out = { ...varsB }
        for (const k of Object.keys(varsA))
          if (k.startsWith(family) && !/SOCKET|UNIX_PORT|HOST|PORT/.test(k)) out[k] = varsA[k]!
        return out
      }
      assert.match((await mariadbSql(crossed('MYSQL_'), 'SELECT 1', userB)).out, /denied/i)
      assert.match((await psqlSql(crossed('PG'), 'SELECT 1', userB)).out, /password authentication failed/)
      assert.match((await redisCli(crossed('REDIS_'), ['PING'], userB)).out, /WRONGPASS/)
    })

    test('GET /v1/services/:id reports the process, its memory and the data size', async () => {
      const s = (
        await tp.call('GET', `/v1/services/${svc['A.postgresql']!.id}`, { token })
      ).json() as ServiceView
      assert.equal(s.status, 'running')
      assert.equal(s.process?.state, 'running')
      assert.ok((s.process?.pid ?? 0) > 0)
      assert.ok((s.usage.memoryRssBytes ?? 0) > 1_000_000, `rss ${s.usage.memoryRssBytes}`)
      assert.ok(s.usage.dataBytes > 1_000_000, `data ${s.usage.dataBytes}`)
    })

    test('a killed server (kill -9) is restarted and keeps the committed writes', async () => {
      const id = svc['A.mariadb']!.id
      const before = (await tp.call('GET', `/v1/services/${id}`, { token })).json() as ServiceView
      process.kill(before.process!.pid!, 'SIGKILL')
      const deadline = Date.now() + 120_000
      for (;;) {
        const r = await mariadbSql(varsA, 'SELECT SUM(v) FROM t', userA)
        const now = (await tp.call('GET', `/v1/services/${id}`, { token })).json() as ServiceView
        if (r.code === 0 && now.process!.restarts >= 1) {
          assert.equal(r.out.trim(), '42')
          assert.notEqual(now.process!.pid, before.process!.pid)
          break
        }
        assert.ok(Date.now() < deadline, `not back: ${r.out}`)
        await new Promise((res) => setTimeout(res, 300))
      }
    })

    test('DELETE keeps the data unless deleteData=true is given', async () => {
      const redisB = svc['B.redis']!
      const dir = path.join(tp.platform.config.dataDir, 'envs', envB, 'services', redisB.id)
      assert.equal((await tp.call('DELETE', `/v1/services/${redisB.id}`, { token })).statusCode, 204)
      const stopped = await waitForStatus(tp, token, redisB.id, 'stopped')
      assert.equal(stopped.process, null)
      assert.ok(existsSync(path.join(dir, 'data')))
      assert.equal((await tp.platform.services.connectionVariables(envB))['REDIS_URL'], undefined)
      assert.equal(
        (await tp.call('DELETE', `/v1/services/${redisB.id}?deleteData=true`, { token })).statusCode,
        204,
      )
      assert.equal(existsSync(dir), false)
      assert.equal((await tp.call('GET', `/v1/services/${redisB.id}`, { token })).statusCode, 404)
    })
  },
)
