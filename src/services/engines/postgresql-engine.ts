import path from 'node:path'
import pg from 'pg'
import { execStreaming, mustExec } from '../exec.js'
import { removeInInstance, writeInstanceFile } from '../instance-files.js'
import { serviceConnector } from '../service-socket.js'
import type { Credentials, Engine, Instance } from './engine.js'

/** Debian's PostgreSQL 15 binaries (not on PATH). */
export const PG_BIN = '/usr/lib/postgresql/15/bin'
export const PG_PORT = 5432

let version: Promise<string> | undefined

const ident = (s: string): string => '"' + s.replace(/"/g, '""') + '"'
const literal = (s: string): string => "'" + s.replace(/'/g, "''") + "'"

const socketPathOf = (inst: Instance): string => path.join(inst.dir, `.s.PGSQL.${PG_PORT}`)

/** A client as the admin user over the instance's Unix socket. */
export async function adminClient(
  inst: Instance,
  creds: Credentials,
  database = 'postgres',
): Promise<pg.Client> {
  const client = new pg.Client({
    host: inst.dir,
    port: PG_PORT,
    user: creds.adminUser,
    password: creds.adminPassword,
    database,
    connectionTimeoutMillis: 5_000,
    // Under isolation the connection is made from inside the environment's sandbox (service-socket.ts).
    ...(inst.runAs?.sandbox ? { stream: serviceConnector(inst, socketPathOf(inst)) } : {}),
  })
  client.on('error', () => undefined)
  await client.connect()
  return client
}

/**
 * PostgreSQL from the Debian package. Hardening: `listen_addresses = ''` (no TCP), a 0700 Unix socket in the
 * 0700 service directory, scram-sha-256 for every local connection (pg_hba has no other line, no trust),
 * the app role owns its one database and cannot connect to the others.
 */
export const postgresqlEngine: Engine = {
  type: 'postgresql',

  installedVersion() {
    version ??= mustExec([path.join(PG_BIN, 'postgres'), '--version']).then(
      (out) => /(\d+)(\.\d+)?/.exec(out)?.[1] ?? 'unknown',
    )
    return version
  },

  socketPath: (inst) => socketPathOf(inst),

  async initialize(inst, creds) {
    const pwfile = path.join(inst.dir, 'pwfile')
    await writeInstanceFile(inst, pwfile, creds.adminPassword + '\n')
    const data = path.join(inst.dir, 'data')
    try {
      await mustExec(
        [
          path.join(PG_BIN, 'initdb'),
          `--pgdata=${data}`,
          `--username=${creds.adminUser}`,
          `--pwfile=${pwfile}`,
          '--auth-local=scram-sha-256',
          '--auth-host=reject',
          '--encoding=UTF8',
          '--locale=C.UTF-8',
          '--no-instructions',
        ],
        { runAs: inst.runAs, cwd: inst.dir, timeoutMs: 300_000 },
      )
    } finally {
      await removeInInstance(inst, pwfile)
    }
    const hba = path.join(data, 'pg_hba.conf')
    // Only local (Unix socket) connections, always with a password: no trust, no peer, no TCP.
    await writeInstanceFile(
      inst,
      hba,
      '# Written by Palisade: Unix socket only, scram-sha-256 only.\nlocal all all scram-sha-256\n',
    )
  },

  server: (inst) => ({
    argv: [
      path.join(PG_BIN, 'postgres'),
      '-D',
      path.join(inst.dir, 'data'),
      '-c',
      'listen_addresses=',
      '-c',
      `unix_socket_directories=${inst.dir}`,
      '-c',
      'unix_socket_permissions=0700',
      '-c',
      `port=${PG_PORT}`,
      '-c',
      'password_encryption=scram-sha-256',
      '-c',
      'shared_buffers=32MB',
      '-c',
      'max_connections=50',
      '-c',
      'logging_collector=off',
    ],
    // SIGINT: fast shutdown (SIGTERM would wait for every client to leave).
    stopSignal: 'SIGINT',
  }),

  async ping(inst, creds) {
    try {
      const c = await adminClient(inst, creds)
      try {
        await c.query('SELECT 1')
        return true
      } finally {
        await c.end()
      }
    } catch {
      return false
    }
  },

  async bootstrap(inst, creds) {
    const c = await adminClient(inst, creds)
    try {
      const role = await c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [creds.user])
      if (role.rowCount === 0)
        await c.query(`CREATE ROLE ${ident(creds.user)} LOGIN PASSWORD ${literal(creds.password)}`)
      const db = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [creds.database])
      if (db.rowCount === 0)
        await c.query(`CREATE DATABASE ${ident(creds.database)} OWNER ${ident(creds.user)}`)
      for (const d of ['postgres', 'template1', creds.database])
        await c.query(`REVOKE ALL ON DATABASE ${ident(d)} FROM PUBLIC`)
      await c.query(`GRANT CONNECT ON DATABASE ${ident(creds.database)} TO ${ident(creds.user)}`)
    } finally {
      await c.end()
    }
  },

  dumpExtension: 'sql',

  async dump(inst, creds, file) {
    await execStreaming(
      [
        path.join(PG_BIN, 'pg_dump'),
        `--host=${inst.dir}`,
        `--port=${PG_PORT}`,
        `--username=${creds.adminUser}`,
        '--no-owner',
        '--no-privileges',
        '--format=plain',
        creds.database,
      ],
      { outFile: file },
      { env: { PGPASSWORD: creds.adminPassword }, runAs: inst.runAs, cwd: inst.dir },
    )
  },

  async restore(inst, creds, file) {
    // One transaction: the app's objects are dropped and the dump replayed as the app role, or nothing changes.
    const prefix = `DROP OWNED BY ${ident(creds.user)} CASCADE;\nSET ROLE ${ident(creds.user)};\n`
    await execStreaming(
      [
        path.join(PG_BIN, 'psql'),
        '-X',
        '-q',
        '--single-transaction',
        '-v',
        'ON_ERROR_STOP=1',
        `--host=${inst.dir}`,
        `--port=${PG_PORT}`,
        `--username=${creds.adminUser}`,
        `--dbname=${creds.database}`,
      ],
      { inFile: file, prefix },
      { env: { PGPASSWORD: creds.adminPassword }, runAs: inst.runAs, cwd: inst.dir },
    )
    // DROP OWNED also revoked the role's CONNECT grant: give it back.
    await postgresqlEngine.bootstrap(inst, creds)
  },

  connection(inst, creds) {
    return {
      // `localhost` as the host (WHATWG `new URL()` refuses credentials without one); libpq and node-postgres
      // take the socket directory from `host=`, which wins over it.
      url: `postgresql://${creds.user}:${creds.password}@localhost/${creds.database}?host=${encodeURIComponent(inst.dir)}&port=${PG_PORT}`,
      family: {
        PGHOST: inst.dir,
        PGPORT: String(PG_PORT),
        PGUSER: creds.user,
        PGPASSWORD: creds.password,
        PGDATABASE: creds.database,
      },
    }
  },
}
