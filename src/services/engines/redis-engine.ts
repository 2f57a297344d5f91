import { createHash } from 'node:crypto'
import path from 'node:path'
import type { Duplex } from 'node:stream'
import { mustExec } from '../exec.js'
import {
  copyIntoInstance,
  copyOutOfInstance,
  removeInInstance,
  writeInstanceFile,
} from '../instance-files.js'
import { serviceConnector } from '../service-socket.js'
import { supervise } from '../supervisor.js'
import { isRespError, respCall } from '../resp.js'
import type { Engine, Instance } from './engine.js'

let version: Promise<string> | undefined

const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex')

/**
 * Redis from the Debian package. Hardening: no TCP (`port 0`), a 0700 Unix socket in the 0700 service
 * directory, `protected-mode yes`, the `default` user off, an ACL user per environment without the
 * `@dangerous` commands (FLUSHALL, FLUSHDB, CONFIG, DEBUG, KEYS, SHUTDOWN, MODULE, MONITOR, ...), and only
 * password hashes in the config file.
 */
export const redisEngine: Engine = {
  type: 'redis',

  installedVersion() {
    version ??= mustExec(['redis-server', '--version']).then(
      (out) => /v=(\d+\.\d+)/.exec(out)?.[1] ?? 'unknown',
    )
    return version
  },

  socketPath: (inst) => path.join(inst.dir, 'redis.sock'),

  async initialize(inst, creds) {
    const conf = [
      'port 0',
      `unixsocket ${path.join(inst.dir, 'redis.sock')}`,
      'unixsocketperm 700',
      'protected-mode yes',
      'daemonize no',
      'supervised no',
      `dir ${path.join(inst.dir, 'data')}`,
      'dbfilename dump.rdb',
      // AOF every second: a kill -9 loses at most the last second of acknowledged writes.
      'appendonly yes',
      'appendfsync everysec',
      'logfile ""',
      'enable-debug-command no',
      'enable-module-command no',
      'enable-protected-configs no',
      'user default off resetkeys resetchannels -@all',
      // INFO is @dangerous but client libraries use it for their ready check.
      `user ${creds.user} on #${sha256(creds.password)} ~* &* +@all -@dangerous +info`,
      `user ${creds.adminUser} on #${sha256(creds.adminPassword)} ~* &* +@all`,
      '',
    ].join('\n')
    const file = path.join(inst.dir, 'redis.conf')
    await writeInstanceFile(inst, file, conf)
  },

  server: (inst) => ({ argv: ['redis-server', path.join(inst.dir, 'redis.conf')], stopSignal: 'SIGTERM' }),

  async ping(inst, creds) {
    try {
      const [auth, pong] = await respCall(
        socketOf(inst),
        [['AUTH', creds.adminUser, creds.adminPassword], ['PING']],
        5_000,
      )
      return !isRespError(auth) && pong === 'PONG'
    } catch {
      return false
    }
  },

  async bootstrap() {
    // The ACL users come from the config file.
  },

  dumpExtension: 'rdb',

  async dump(inst, creds, file) {
    const sock = socketOf(inst)
    const admin = ['AUTH', creds.adminUser, creds.adminPassword]
    // LASTSAVE has a one-second resolution: start the snapshot in a later second than the last one, so
    // that "LASTSAVE moved" reliably means "our snapshot is done".
    let before: unknown
    for (;;) {
      const [, last, time] = await respCall(sock, [admin, ['LASTSAVE'], ['TIME']])
      const now = Array.isArray(time) ? Number(time[0]) : NaN
      before = last
      if (typeof last !== 'number' || !Number.isFinite(now) || last < now) break
      await new Promise((r) => setTimeout(r, 100))
    }
    const [, started] = await respCall(sock, [admin, ['BGSAVE']])
    if (isRespError(started) && !/in progress/i.test(started.error))
      throw new Error(`BGSAVE refused: ${started.error}`)
    const deadline = Date.now() + 600_000
    for (;;) {
      const [, info, last] = await respCall(sock, [admin, ['INFO', 'persistence'], ['LASTSAVE']])
      const text = typeof info === 'string' ? info : ''
      if (
        /rdb_bgsave_in_progress:0/.test(text) &&
        typeof last === 'number' &&
        typeof before === 'number' &&
        last > before
      ) {
        if (!/rdb_last_bgsave_status:ok/.test(text)) throw new Error('BGSAVE failed')
        break
      }
      if (Date.now() > deadline) throw new Error('BGSAVE did not finish in time')
      // LASTSAVE has a one-second resolution.
      await new Promise((r) => setTimeout(r, 250))
    }
    await copyOutOfInstance(inst, path.join(inst.dir, 'data', 'dump.rdb'), file)
  },

  async restore(inst, creds, file, control) {
    await control.stop()
    const data = path.join(inst.dir, 'data')
    // With AOF on, Redis would ignore the RDB at start: load it with AOF off, then let Redis rewrite the AOF.
    await removeInInstance(inst, path.join(data, 'appendonly'))
    await copyIntoInstance(inst, file, path.join(data, 'dump.rdb'))
    await loadRdbOnce(inst, creds)
    await control.start()
  },

  connection(inst, creds) {
    const socket = path.join(inst.dir, 'redis.sock')
    return {
      // A redis: URL whose `path` parameter names the socket: WHATWG `new URL()` parses it (`unix://u:p@/path`
      // does not) and ioredis connects to `path`. node-redis takes no socket from a URL: it uses REDIS_SOCKET.
      url: `redis://${encodeURIComponent(creds.user)}:${encodeURIComponent(creds.password)}@localhost/0?path=${encodeURIComponent(socket)}`,
      family: { REDIS_SOCKET: socket, REDIS_USERNAME: creds.user, REDIS_PASSWORD: creds.password },
    }
  },
}

/** Connections to the instance's socket (from inside its sandbox under isolation). */
const socketOf = (inst: Instance): (() => Duplex) => serviceConnector(inst, path.join(inst.dir, 'redis.sock'))

/** Starts Redis once with AOF off (it loads dump.rdb), switches AOF on (a rewrite from memory), and shuts it down. */
async function loadRdbOnce(
  inst: Instance,
  creds: { adminUser: string; adminPassword: string },
): Promise<void> {
  const sock = socketOf(inst)
  const admin = ['AUTH', creds.adminUser, creds.adminPassword]
  const once = supervise({
    argv: ['redis-server', path.join(inst.dir, 'redis.conf'), '--appendonly', 'no'],
    runAs: inst.runAs,
    cwd: inst.dir,
    stopSignal: 'SIGTERM',
    backoff: { initialMs: 60_000, maxMs: 60_000, resetAfterMs: 60_000 },
  })
  try {
    const deadline = Date.now() + 600_000
    const poll = async (ok: (info: string) => boolean): Promise<void> => {
      for (;;) {
        try {
          const [, info] = await respCall(sock, [admin, ['INFO', 'persistence']])
          if (typeof info === 'string' && ok(info)) return
        } catch {
          // not listening yet
        }
        if (Date.now() > deadline || once.state !== 'running')
          throw new Error(`redis did not load the snapshot: ${once.output().slice(-400)}`)
        await new Promise((r) => setTimeout(r, 200))
      }
    }
    await poll((i) => /loading:0/.test(i))
    const [, set] = await respCall(sock, [admin, ['CONFIG', 'SET', 'appendonly', 'yes']])
    if (isRespError(set)) throw new Error(`could not switch AOF on: ${set.error}`)
    await poll(
      (i) =>
        /aof_enabled:1/.test(i) && /aof_rewrite_in_progress:0/.test(i) && !/aof_rewrite_scheduled:1/.test(i),
    )
  } finally {
    await once.stop(20_000)
  }
}
