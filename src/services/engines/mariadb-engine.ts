import path from 'node:path'
import { exec, execStreaming, mustExec } from '../exec.js'
import { removeInInstance, writeInstanceFile } from '../instance-files.js'
import type { Credentials, Engine, Instance } from './engine.js'

const sqlString = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`
const sqlIdent = (s: string): string => '`' + s.replace(/`/g, '``') + '`'

let version: Promise<string> | undefined

/**
 * MariaDB from the Debian package. Hardening: no TCP at all (`--skip-networking`), a Unix socket in the
 * 0700 service directory, no anonymous users and no test database, root only with its generated password,
 * the app user limited to its one database, LOAD DATA LOCAL and file export outside the service dir refused.
 */
export const mariadbEngine: Engine = {
  type: 'mariadb',

  installedVersion() {
    version ??= mustExec(['mariadbd', '--version']).then(
      (out) => /Ver (\d+\.\d+)/.exec(out)?.[1] ?? 'unknown',
    )
    return version
  },

  socketPath: (inst) => path.join(inst.dir, 'mysql.sock'),

  async initialize(inst, creds) {
    // Runs at the end of the bootstrap, as the server's own SQL: passwords never appear on a command line.
    const sql = [
      "DELETE FROM mysql.global_priv WHERE NOT (User IN ('root', 'mariadb.sys') AND Host = 'localhost');",
      'DELETE FROM mysql.db;',
      'DELETE FROM mysql.proxies_priv;',
      'FLUSH PRIVILEGES;',
      `ALTER USER 'root'@'localhost' IDENTIFIED BY ${sqlString(creds.adminPassword)};`,
      `CREATE DATABASE ${sqlIdent(creds.database)} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;`,
      `CREATE USER ${sqlString(creds.user)}@'localhost' IDENTIFIED BY ${sqlString(creds.password)};`,
      `GRANT ALL PRIVILEGES ON ${sqlIdent(creds.database)}.* TO ${sqlString(creds.user)}@'localhost';`,
      'FLUSH PRIVILEGES;',
      '',
    ].join('\n')
    const file = path.join(inst.dir, 'init.sql')
    await writeInstanceFile(inst, file, sql)
    try {
      await mustExec(
        [
          'mariadb-install-db',
          '--no-defaults',
          `--datadir=${path.join(inst.dir, 'data')}`,
          '--auth-root-authentication-method=socket',
          '--skip-test-db',
          '--skip-name-resolve',
          `--extra-file=${file}`,
        ],
        { runAs: inst.runAs, cwd: inst.dir, timeoutMs: 300_000 },
      )
    } finally {
      await removeInInstance(inst, file)
    }
  },

  server: (inst) => ({
    argv: [
      'mariadbd',
      '--no-defaults',
      `--datadir=${path.join(inst.dir, 'data')}`,
      `--socket=${path.join(inst.dir, 'mysql.sock')}`,
      `--pid-file=${path.join(inst.dir, 'mariadb.pid')}`,
      `--tmpdir=${path.join(inst.dir, 'tmp')}`,
      // Threat: a network listener reachable from other environments or the host's neighbours.
      '--skip-networking',
      '--skip-name-resolve',
      // Threat: a compromised app reading the server's or the client's files through SQL.
      '--local-infile=0',
      `--secure-file-priv=${path.join(inst.dir, 'files')}`,
      '--symbolic-links=0',
      '--character-set-server=utf8mb4',
      '--collation-server=utf8mb4_unicode_ci',
      '--innodb-buffer-pool-size=64M',
      '--max-connections=100',
    ],
    stopSignal: 'SIGTERM',
  }),

  async ping(inst, creds) {
    const r = await exec(adminArgv(inst, creds, ['--execute=SELECT 1']), {
      env: { MYSQL_PWD: creds.adminPassword },
      runAs: inst.runAs,
      cwd: inst.dir,
      timeoutMs: 10_000,
    })
    return r.code === 0 && r.stdout.trim() === '1'
  },

  async bootstrap() {
    // Everything is done by initialize's bootstrap SQL.
  },

  dumpExtension: 'sql',

  async dump(inst, creds, file) {
    // One consistent snapshot (InnoDB) of the app database only: no grant tables, so no password hashes.
    await execStreaming(
      [
        'mariadb-dump',
        '--no-defaults',
        `--socket=${path.join(inst.dir, 'mysql.sock')}`,
        `--user=${creds.adminUser}`,
        '--single-transaction',
        '--routines',
        '--triggers',
        '--hex-blob',
        '--default-character-set=utf8mb4',
        '--databases',
        creds.database,
      ],
      { outFile: file },
      { env: { MYSQL_PWD: creds.adminPassword }, runAs: inst.runAs, cwd: inst.dir },
    )
  },

  async restore(inst, creds, file) {
    // The dump recreates the database's tables; dropping it first removes tables made after the backup.
    const db = sqlIdent(creds.database)
    await execStreaming(
      adminArgv(inst, creds, []),
      { inFile: file, prefix: `DROP DATABASE IF EXISTS ${db};\n` },
      { env: { MYSQL_PWD: creds.adminPassword }, runAs: inst.runAs, cwd: inst.dir },
    )
  },

  connection(inst, creds) {
    const socket = path.join(inst.dir, 'mysql.sock')
    return {
      // `socket` is what Prisma and most URL readers take; mysql2 (Node's common client) reads `socketPath`.
      url: `mysql://${creds.user}:${creds.password}@localhost/${creds.database}?socket=${encodeURIComponent(socket)}&socketPath=${encodeURIComponent(socket)}`,
      family: {
        MYSQL_HOST: 'localhost',
        MYSQL_UNIX_PORT: socket,
        MYSQL_SOCKET: socket,
        MYSQL_USER: creds.user,
        MYSQL_PASSWORD: creds.password,
        MYSQL_DATABASE: creds.database,
      },
    }
  },
}

/** argv of the `mariadb` client as the admin user; the password goes by MYSQL_PWD, never argv. */
export function adminArgv(inst: Instance, creds: Credentials, extra: readonly string[]): string[] {
  return [
    'mariadb',
    '--no-defaults',
    `--socket=${path.join(inst.dir, 'mysql.sock')}`,
    `--user=${creds.adminUser}`,
    '--batch',
    '--skip-column-names',
    ...extra,
  ]
}
