import path from 'node:path'
import pg from 'pg'
import { newId, randomToken } from '../../shared/ids.js'
import type { Credentials, Engine, Instance } from '../engines/engine.js'
import { adminArgv } from '../engines/mariadb-engine.js'
import { adminClient } from '../engines/postgresql-engine.js'
import { mustExec, type RunAs } from '../exec.js'
import { supervise } from '../supervisor.js'
import { freshInstanceDir, removeInstanceDir } from '../instance-files.js'
import { updateStatements } from './fakes.js'
import type { AnonymizationRule, ColumnInfo, RuleService } from './rules.js'

/** Names of scratch instance directories (next to the source's services). */
export const SCRATCH_PREFIX = /^scr_[a-z0-9]{20}$/
const READY_TIMEOUT_MS = 120_000
const STOP_GRACE_MS = 20_000

export interface AnonymizeInput {
  readonly engine: Engine
  readonly type: RuleService
  /** Directory the scratch instance is made in (inside the source environment: its user runs it). */
  readonly parentDir: string
  readonly runAs: RunAs | null
  /** The app database's name (the dumps name it). */
  readonly database: string
  /** Clear dump of the source (read, never modified). */
  readonly sourceDump: string
  /** Where the anonymized dump is written. */
  readonly outFile: string
  readonly rules: readonly AnonymizationRule[]
  readonly columns: readonly ColumnInfo[]
  readonly key: Buffer
}

/**
 * Why a throwaway server: the clear data is loaded, rewritten and dumped again inside a private instance that
 * only the platform can reach and that is deleted right after, so clear production data never lands in the
 * target. Rewriting in the target instead (restore, then UPDATE before leaving maintenance) would expose the
 * clear rows to the target's running processes and leave them in its InnoDB/WAL files after the UPDATE.
 * The cost is one extra server start (seconds) per anonymized service.
 */
export async function anonymizeThroughScratch(input: AnonymizeInput): Promise<{ statements: number }> {
  const { engine } = input
  const id = newId('scr')
  const inst: Instance = { id, dir: path.join(input.parentDir, id), runAs: input.runAs }
  const creds: Credentials = {
    adminUser: input.type === 'postgresql' ? 'postgres' : 'root',
    adminPassword: randomToken(32),
    user: `u${randomToken(11)}`,
    password: randomToken(32),
    database: input.database,
  }
  await freshInstanceDir(inst)
  let server: ReturnType<typeof supervise> | undefined
  try {
    await engine.initialize(inst, creds)
    const cmd = engine.server(inst)
    server = supervise({
      argv: cmd.argv,
      runAs: inst.runAs,
      cwd: inst.dir,
      stopSignal: cmd.stopSignal,
      backoff: { initialMs: 500, maxMs: 2_000, resetAfterMs: 30_000 },
    })
    const deadline = Date.now() + READY_TIMEOUT_MS
    while (!(await engine.ping(inst, creds))) {
      if (Date.now() > deadline)
        throw new Error(
          `the scratch ${input.type} server did not start: ${server.output().trim().slice(-400)}`,
        )
      await new Promise((r) => setTimeout(r, 200))
    }
    await engine.bootstrap(inst, creds)
    const control = {
      stop: () => Promise.reject(new Error('a scratch server is not restarted')),
      start: () => Promise.resolve(),
    }
    await engine.restore(inst, creds, input.sourceDump, control)
    const keepAsIs = new Map<string, string[]>()
    for (const c of input.columns.filter((x) => x.autoUpdate))
      keepAsIs.set(c.table, [...(keepAsIs.get(c.table) ?? []), c.column])
    const statements = updateStatements(input.type, input.key, input.rules, keepAsIs)
    if (statements.length > 0) {
      if (input.type === 'mariadb') await runMariadb(inst, creds, statements)
      else await runPostgresql(inst, creds, statements)
    }
    await engine.dump(inst, creds, input.outFile)
    return { statements: statements.length }
  } finally {
    await server?.stop(STOP_GRACE_MS)
    // The scratch data directory holds clear rows: it goes whatever happened.
    await removeInstanceDir(inst)
  }
}

async function runMariadb(inst: Instance, creds: Credentials, statements: readonly string[]): Promise<void> {
  // Foreign keys off: a key column rewritten in parent and child alike stays consistent, but not row by row.
  // The script goes by stdin (it holds the HMAC pads), never argv.
  const script = [
    'SET SESSION FOREIGN_KEY_CHECKS = 0;',
    'START TRANSACTION;',
    ...statements.map((s) => `${s};`),
    'COMMIT;',
    '',
  ].join('\n')
  await mustExec(adminArgv(inst, creds, [creds.database]), {
    env: { MYSQL_PWD: creds.adminPassword },
    runAs: inst.runAs,
    cwd: inst.dir,
    input: script,
    timeoutMs: 3_600_000,
  })
}

async function runPostgresql(
  inst: Instance,
  creds: Credentials,
  statements: readonly string[],
): Promise<void> {
  const client: pg.Client = await adminClient(inst, creds, creds.database)
  try {
    await client.query('BEGIN')
    // replica: no user triggers and no foreign-key triggers fire (the rewrite keeps keys consistent by itself).
    await client.query('SET LOCAL session_replication_role = replica')
    for (const s of statements) await client.query(s)
    await client.query('COMMIT')
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw error
  } finally {
    await client.end()
  }
}
