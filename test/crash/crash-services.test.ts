import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, readlinkSync, statSync } from 'node:fs'
import path from 'node:path'
import { describe, test } from 'node:test'
import { createProcessRecords } from '../../src/deploy/index.js'
import { processesOf } from '../../src/deploy/drivers/local/process-records.js'
import { eventually } from '../../src/deploy/testing.js'
import { environmentUser, redisCli, runClient } from '../services-helpers.js'
import { cliEntry } from '../support/processes.js'
import { checkInvariants, commitVersion, crashThenRestart, createCrashRig, type Json } from './harness.js'

const root = process.getuid?.() === 0

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/**
 * Issue #19, services: `palisade serve` killed with SIGKILL while a Redis service is provisioned (before its
 * server is started, and once it runs but is not set up yet) and while one is deleted with its data (after its
 * row went, before its directory did). After each restart: the provisioning is completed (status `running`,
 * exactly one server on its directory, one record), the deleted service leaves no directory, server or record,
 * and a server the killed control plane left running is adopted — the same process (pid and start time),
 * its data there — never a second one on its directory. The app keeps serving; the audit chain verifies.
 */
describe('crash safety: kill -9 during service changes', { skip: !root && 'needs root (isolation)' }, () => {
  test('provisioning is completed, deletion finished, running servers adopted', async (t) => {
    const rig = await createCrashRig(t)
    let server = await rig.start()
    const { envId, host } = await rig.bootstrap()
    commitVersion(rig, 'c1')
    assert.equal((await rig.waitDeployment((await rig.deploy(envId))['id'] as string))['status'], 'succeeded')
    const user = (): ReturnType<typeof environmentUser> => environmentUser(rig.dataDir, envId)
    const serviceDir = (id: string): string => path.join(rig.dataDir, 'envs', envId, 'services', id)
    const record = (id: string): { pid: number; startTime: string } | undefined => {
      const r = createProcessRecords(rig.dataDir)
        .list(envId)
        .filter((x) => x.role === 'service' && x.instanceId === id)
      assert.ok(r.length <= 1, JSON.stringify(r))
      return r[0] ? { pid: r[0].pid, startTime: r[0].startTime } : undefined
    }
    const waitRunning = (id: string): Promise<Json> =>
      eventually(
        async () => {
          const s = (await rig.api('GET', `/v1/services/${id}`)).json
          return s['status'] === 'running' && (s['process'] as Json | null)?.['state'] === 'running'
            ? s
            : undefined
        },
        60_000,
        `service ${id} running`,
      )
    /** Exactly one server process on the service's directory, and its record. */
    const oneServer = async (id: string): Promise<void> => {
      await eventually(
        () => processesOf(user().uid, serviceDir(id)).length === 1,
        10_000,
        'one server on the directory',
      ).catch(() => {
        throw new Error(`servers on ${id}: ${JSON.stringify(processesOf(user().uid, serviceDir(id)))}`)
      })
      assert.ok(record(id), 'the server is recorded')
    }
    const redis = async (id: string, ...args: string[]): Promise<string> => {
      const creds = (await rig.api('GET', `/v1/services/${id}/credentials`)).json
      return (await redisCli(creds['variables'] as Record<string, string>, args, user())).out.trim()
    }
    const create = async (name: string, type = 'redis'): Promise<string> => {
      const r = await rig.api('POST', `/v1/environments/${envId}/services`, { type, name })
      assert.equal(r.status, 201, JSON.stringify(r.json))
      return r.json['id'] as string
    }
    const victim = await create('victim')
    await waitRunning(victim)
    // MariaDB logs every refused login to stderr (log_warnings 2, its default): what it writes while no control
    // plane runs, and after it was adopted, must reach the service's log (its output file, docs/crash-safety.md).
    // (PostgreSQL's socket path would be too long under the rig's temp directory.)
    const db = await create('db', 'mariadb')
    await waitRunning(db)
    const dbVars = (await rig.api('GET', `/v1/services/${db}/credentials`)).json['variables'] as Record<
      string,
      string
    >
    /** A login as the unknown user `tag`, over the service's socket from the environment's sandbox. */
    const failQuery = async (tag: string): Promise<void> => {
      const argv = ['mariadb', '--no-defaults', `--socket=${dbVars['MYSQL_UNIX_PORT']}`, `--user=${tag}`]
      const r = await runClient([...argv, '--execute=SELECT 1'], { MYSQL_PWD: 'wrong' }, user())
      assert.notEqual(r.code, 0, r.out)
      assert.match(r.out, /Access denied/)
    }
    const logs = async (): Promise<string[]> => {
      const r = await rig.api('GET', `/v1/services/${db}/logs?lines=5000`)
      assert.equal(r.status, 200, JSON.stringify(r.json))
      return r.json['lines'] as string[]
    }
    /** The server's lines about the refused login of `tag`. */
    const errorLines = (lines: string[], tag: string): string[] =>
      lines.filter((l) => l.includes(`Access denied for user '${tag}'`))
    await server.kill9()
    const whileDown = `crash_down_${Date.now()}`
    await failQuery(whileDown)
    server = await rig.start('service.dir-fresh')

    let cache0 = ''
    let cache0Server: { pid: number; startTime: string } | undefined
    await t.test('a provisioning killed before its server started is completed', async () => {
      server = await crashThenRestart(
        rig,
        server,
        'service.dir-fresh',
        async () => (cache0 = await create('cache0')),
        'service.deleted',
      )
      await waitRunning(cache0)
      await oneServer(cache0)
      assert.equal(await redis(cache0, 'SET', 'k', 'kept'), 'OK')
      cache0Server = record(cache0)
      await checkInvariants(rig, envId, host, () => 'c1', { auditVerify: false })
    })

    await t.test('a deletion killed after its row went leaves no directory, server or record', async () => {
      server = await crashThenRestart(
        rig,
        server,
        'service.deleted',
        () => rig.api('DELETE', `/v1/services/${victim}?deleteData=true`),
        'service.launched',
      )
      assert.equal((await rig.api('GET', `/v1/services/${victim}`)).status, 404)
      await eventually(() => !existsSync(serviceDir(victim)), 30_000, 'the deleted service directory removed')
      assert.deepEqual(processesOf(user().uid, serviceDir(victim)), [])
      assert.equal(record(victim), undefined)
      await checkInvariants(rig, envId, host, () => 'c1', { auditVerify: false })
    })

    await t.test('a provisioning killed once its server ran is completed with one server', async () => {
      let cache1 = ''
      server = await crashThenRestart(
        rig,
        server,
        'service.launched',
        async () => (cache1 = await create('cache1')),
      )
      await waitRunning(cache1)
      await oneServer(cache1)
      assert.equal(await redis(cache1, 'SET', 'k', 'v'), 'OK')
    })

    await t.test('a server that outlived two crashes was adopted each time, data intact', async () => {
      await waitRunning(cache0)
      await oneServer(cache0)
      assert.deepEqual(
        record(cache0),
        cache0Server,
        `the same server process runs: ${rig.outputs().slice(-6000)}`,
      )
      assert.equal(await redis(cache0, 'GET', 'k'), 'kept')
      await checkInvariants(rig, envId, host, () => 'c1')
      // The next deployment of the environment succeeds.
      commitVersion(rig, 'c2')
      const next = await rig.waitDeployment((await rig.deploy(envId))['id'] as string)
      assert.equal(next['status'], 'succeeded', JSON.stringify(next))
    })

    await t.test(
      "an adopted server's output reaches the service's log, each line once, from a root-only file",
      async () => {
        await waitRunning(db)
        // Written while no control plane ran (before the first of four restarts), and now to the adopted server.
        const adoptedNow = `crash_adopted_${Date.now()}`
        await failQuery(adoptedNow)
        await eventually(
          async () => errorLines(await logs(), adoptedNow).length === 1,
          10_000,
          'the adopted server’s line in the log',
        )
        // One more crash, a line written while nothing reads, and a restart that adopts the server again.
        await server.kill9()
        const downAgain = `crash_down_again_${Date.now()}`
        await failQuery(downAgain)
        server = await rig.start()
        await waitRunning(db)
        const lines = await logs()
        for (const tag of [whileDown, adoptedNow, downAgain])
          assert.equal(errorLines(lines, tag).length, 1, `${tag} once in ${JSON.stringify(lines.slice(-40))}`)
        const cli = await rig.cli(['services', 'logs', db, '-n', '200'])
        assert.equal(cli.code, 0, cli.stderr)
        assert.ok(cli.stdout.includes(`Access denied for user '${downAgain}'`), cli.stdout)
        // The file: root's, 0600, in a root-only directory; every server process writes to it by descriptor.
        const file = path.join(rig.dataDir, 'sandboxes', 'processes', envId, `service-${db}.log`)
        const st = statSync(file)
        assert.equal(st.uid, 0)
        assert.equal(st.mode & 0o777, 0o600)
        const dir = statSync(path.dirname(file))
        assert.equal(dir.uid, 0)
        assert.equal(dir.mode & 0o077, 0)
        const pids = processesOf(user().uid, serviceDir(db))
        assert.ok(pids.length > 0)
        for (const pid of pids) assert.equal(readlinkSync(`/proc/${pid}/fd/2`), file, `pid ${pid}`)
        // Bad input: the line count is checked, an unknown service is not found.
        for (const q of ['lines=0', 'lines=5001', 'lines=ten'])
          assert.equal((await rig.api('GET', `/v1/services/${db}/logs?${q}`)).status, 400, q)
        assert.equal((await rig.api('GET', '/v1/services/svc_00000000000000000000/logs')).status, 404)
        const bad = await rig.cli(['services', 'logs', db, '-n', 'x'])
        assert.notEqual(bad.code, 0)

        // Following: the CLI prints each line the server writes from now on, once.
        const token = (rig.auth()['authorization'] ?? '').replace(/^Bearer /, '')
        const follower = spawn(
          process.execPath,
          [...cliEntry(), 'services', 'logs', db, '--follow', '-n', '0'],
          {
            env: {
              PATH: process.env['PATH'] ?? '',
              PALISADE_API_URL: rig.apiUrl,
              PALISADE_TOKEN: token,
              HOME: '/nonexistent',
            },
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        )
        t.after(() => follower.kill('SIGKILL'))
        let followed = ''
        follower.stdout.setEncoding('utf8').on('data', (d: string) => (followed += d))
        follower.stderr.setEncoding('utf8').on('data', (d: string) => (followed += d))
        await sleep(1_500) // the follow starts where the file ends when the request arrives
        const live = `crash_followed_${Date.now()}`
        await failQuery(live)
        await eventually(
          () => errorLines(followed.split('\n'), live).length === 1,
          15_000,
          `the followed line (got: ${followed.slice(0, 400)})`,
        )
        await sleep(1_200)
        assert.equal(errorLines(followed.split('\n'), live).length, 1, 'once')
        assert.equal(
          errorLines(followed.split('\n'), downAgain).length,
          0,
          'only what came after the start (-n 0)',
        )
        follower.kill('SIGTERM')
      },
    )
  })
})
