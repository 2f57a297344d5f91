import assert from 'node:assert/strict'
import { after, before, describe, test, type TestContext } from 'node:test'
import { Redis } from 'ioredis'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { createClient } from 'redis'
import { setUpOwner, startPlatform, type TestPlatform } from './support/platform.js'
import { createEnvironment, provision, removeSandboxes } from './services-helpers.js'

/**
 * The variables an app receives for its services, used exactly as the clients apps use read them: WHATWG
 * `new URL()`, ioredis, node-redis, mysql2 and pg. One environment with MariaDB first (so DATABASE_URL is
 * MariaDB's) and one with PostgreSQL, each with Redis.
 */
const asRoot = process.getuid?.() === 0

describe(
  'service URLs work with the clients apps use',
  { skip: asRoot ? false : 'needs root (per-environment system users)' },
  () => {
    let mysqlVars: Record<string, string>
    let pgVars: Record<string, string>
    const cleanups: Array<() => Promise<void>> = []
    after(async () => {
      for (const fn of cleanups.reverse()) await fn()
      removeSandboxes()
    })
    before(async () => {
      const tp: TestPlatform = await startPlatform(
        { after: (fn: () => Promise<void>) => cleanups.push(fn) } as unknown as TestContext,
        'sqlite',
      )
      const { token } = await setUpOwner(tp)
      const ws = (
        (await tp.call('GET', '/v1/workspaces', { token })).json() as { items: Array<{ id: string }> }
      ).items[0]!.id
      const a = await createEnvironment(tp, token, ws, 'shop')
      const b = await createEnvironment(tp, token, ws, 'blog')
      await Promise.all([
        provision(tp, token, a, { type: 'mariadb' }),
        provision(tp, token, a, { type: 'redis' }),
        provision(tp, token, b, { type: 'postgresql' }),
      ])
      mysqlVars = await tp.platform.services.connectionVariables(a)
      pgVars = await tp.platform.services.connectionVariables(b)
    })

    test('every injected URL parses with new URL()', () => {
      for (const vars of [mysqlVars, pgVars])
        for (const [k, v] of Object.entries(vars))
          if (k.endsWith('_URL'))
            assert.doesNotThrow(() => new URL(v), `${k}=${v.replace(/:[^:@/]+@/, ':…@')}`)
      assert.ok(mysqlVars['REDIS_URL'] && mysqlVars['DATABASE_URL'] && pgVars['DATABASE_URL'])
    })

    test('ioredis connects with REDIS_URL', async () => {
      const r = new Redis(mysqlVars['REDIS_URL']!, {
        lazyConnect: true,
        maxRetriesPerRequest: 1,
        retryStrategy: () => null,
      })
      try {
        await r.connect()
        assert.equal(await r.set('k', 'ioredis'), 'OK')
        assert.equal(await r.get('k'), 'ioredis')
      } finally {
        r.disconnect()
      }
    })

    test('node-redis connects with REDIS_SOCKET, REDIS_USERNAME and REDIS_PASSWORD', async () => {
      const c = createClient({
        socket: { path: mysqlVars['REDIS_SOCKET']!, reconnectStrategy: false },
        username: mysqlVars['REDIS_USERNAME']!,
        password: mysqlVars['REDIS_PASSWORD']!,
      })
      c.on('error', () => undefined)
      await c.connect()
      try {
        await c.set('k2', 'node-redis')
        assert.equal(await c.get('k2'), 'node-redis')
      } finally {
        c.destroy()
      }
    })

    test('mysql2 connects with DATABASE_URL (MariaDB, over its socket)', async () => {
      const conn = await mysql.createConnection(mysqlVars['DATABASE_URL']!)
      try {
        const [rows] = await conn.query('SELECT 41 + 1 AS answer, CURRENT_USER() AS who')
        assert.equal((rows as Array<{ answer: number }>)[0]?.answer, 42)
      } finally {
        await conn.end()
      }
    })

    test('pg connects with DATABASE_URL, and with the PG* variables alone', async () => {
      const viaUrl = new pg.Client({ connectionString: pgVars['DATABASE_URL']! })
      await viaUrl.connect()
      try {
        assert.equal((await viaUrl.query<{ n: number }>('SELECT 41 + 1 AS n')).rows[0]?.n, 42)
      } finally {
        await viaUrl.end()
      }
      const p = pgVars
      const viaEnv = new pg.Client({
        host: p['PGHOST']!,
        port: Number(p['PGPORT']),
        user: p['PGUSER']!,
        password: p['PGPASSWORD']!,
        database: p['PGDATABASE']!,
      })
      await viaEnv.connect()
      try {
        assert.equal((await viaEnv.query<{ n: number }>('SELECT 1 AS n')).rows[0]?.n, 1)
      } finally {
        await viaEnv.end()
      }
    })
  },
)
