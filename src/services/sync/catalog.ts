import { adminClient } from '../engines/postgresql-engine.js'
import { adminArgv } from '../engines/mariadb-engine.js'
import type { Credentials, Instance } from '../engines/engine.js'
import { mustExec } from '../exec.js'
import type { ColumnInfo, RuleService } from './rules.js'

/**
 * Columns of the base tables of the app's database (read-only catalog queries as the admin user). PostgreSQL:
 * the `public` schema, which is where an app's unqualified tables live.
 */
export async function readColumns(
  type: RuleService,
  inst: Instance,
  creds: Credentials,
): Promise<ColumnInfo[]> {
  return type === 'mariadb' ? mariadbColumns(inst, creds) : postgresqlColumns(inst, creds)
}

async function mariadbColumns(inst: Instance, creds: Credentials): Promise<ColumnInfo[]> {
  const sql = `SELECT c.TABLE_NAME, c.COLUMN_NAME, LOWER(c.DATA_TYPE), c.IS_NULLABLE, IFNULL(c.CHARACTER_MAXIMUM_LENGTH, -1),
    c.IS_GENERATED, LOWER(c.EXTRA)
    FROM information_schema.COLUMNS c JOIN information_schema.TABLES t
      ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME
    WHERE c.TABLE_SCHEMA = DATABASE() AND t.TABLE_TYPE = 'BASE TABLE'`
  const out = await mustExec(adminArgv(inst, creds, [`--execute=${sql}`, creds.database]), {
    env: { MYSQL_PWD: creds.adminPassword },
    runAs: inst.runAs,
    cwd: inst.dir,
    timeoutMs: 60_000,
  })
  // --batch output: one row a line, tab-separated, with \t \n \\ escaped. Names with such characters cannot
  // match a rule (identifiers are plain ASCII), so they are read as they come.
  return out
    .split('\n')
    .filter((l) => l !== '')
    .map((line) => {
      const [
        table = '',
        column = '',
        dataType = '',
        nullable = '',
        maxLength = '-1',
        generated = '',
        extra = '',
      ] = line.split('\t')
      const max = Number(maxLength)
      return {
        table,
        column,
        dataType,
        nullable: nullable === 'YES',
        maxLength: max < 0 || !Number.isFinite(max) ? null : max,
        generated: generated === 'ALWAYS' || extra.includes('generated'),
        autoUpdate: extra.includes('on update'),
      }
    })
}

async function postgresqlColumns(inst: Instance, creds: Credentials): Promise<ColumnInfo[]> {
  const client = await adminClient(inst, creds, creds.database)
  try {
    const r = await client.query<{
      table_name: string
      column_name: string
      data_type: string
      is_nullable: string
      max: number | null
      is_generated: string
    }>(
      `SELECT c.table_name, c.column_name, lower(c.data_type) AS data_type, c.is_nullable,
              c.character_maximum_length AS max, c.is_generated
         FROM information_schema.columns c
         JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
        WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'`,
    )
    return r.rows.map((row) => ({
      table: row.table_name,
      column: row.column_name,
      dataType: row.data_type,
      nullable: row.is_nullable === 'YES',
      maxLength: row.max === null ? null : Number(row.max),
      generated: row.is_generated === 'ALWAYS',
      autoUpdate: false,
    }))
  } finally {
    await client.end()
  }
}
