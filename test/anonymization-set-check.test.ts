import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import { assertRulesNameExistingColumns, type LabelledServiceColumns } from '../src/services/sync/rules.js'
import { countEvents } from './support/audit-events.js'
import { setUpOwner, startPlatform } from './support/platform.js'
import {
  createEnvironment,
  environmentUser,
  mariadbSql,
  provision,
  removeSandboxes,
} from './services-helpers.js'

const asRoot = process.getuid?.() === 0

interface ErrorView {
  error: { code: string; message: string; details?: Array<{ field: string; message: string }> }
}

const column = (table: string, name: string) => ({
  table,
  column: name,
  dataType: 'varchar',
  nullable: true,
  maxLength: 100,
  generated: false,
  autoUpdate: false,
})

test('a rule is accepted when its table and column exist in any running service of its type', () => {
  const services: LabelledServiceColumns[] = [
    { name: 'db', type: 'mariadb', label: 'main/db', columns: [column('users', 'email')] },
    { name: 'db', type: 'mariadb', label: 'staging/db', columns: [column('legacy', 'mail')] },
  ]
  const unchecked = assertRulesNameExistingColumns(
    [
      { service: 'mariadb', table: 'users', column: 'email', method: 'fake-email' },
      { service: 'mariadb', table: 'legacy', column: 'mail', method: 'keep' },
      { service: 'postgresql', table: 'people', column: 'mail', method: 'hash' },
    ],
    services,
  )
  assert.deepEqual(
    unchecked,
    [2],
    'no running PostgreSQL service: that rule waits for the sync to be checked',
  )
  assert.throws(
    () =>
      assertRulesNameExistingColumns(
        [
          { service: 'mariadb', table: 'users', column: 'email', method: 'keep' },
          { service: 'mariadb', table: 'users', column: 'mail', method: 'hash' },
          { service: 'mariadb', table: 'customers', column: 'email', method: 'hash' },
        ],
        services,
      ),
    (e: Error & { details?: Array<{ field: string; message: string }> }) => {
      assert.deepEqual(
        e.details?.map((d) => [d.field, d.message]),
        [
          ['rules[1]', 'table users has no column mail (mariadb main/db, staging/db)'],
          ['rules[2]', 'table customers does not exist (mariadb main/db, staging/db)'],
        ],
      )
      return true
    },
  )
})

test(
  'anonymization set refuses rules naming tables or columns the running MariaDB service does not have, and saves nothing',
  { skip: asRoot ? false : 'needs root: services run as the environment user' },
  async (t: TestContext) => {
    const tp = await startPlatform(t, 'sqlite')
    t.after(() => removeSandboxes())
    const { token, workspaceId } = await setUpOwner(tp)
    const env = await createEnvironment(tp, token, workspaceId, 'shop', 'main', 'production')
    const projectId = (
      (await tp.call('GET', `/v1/environments/${env}`, { token })).json() as { projectId: string }
    ).projectId
    const put = (rules: unknown[]) =>
      tp.call('PUT', `/v1/projects/${projectId}/anonymization`, { token, body: { rules } })

    // Before any service exists nothing can be checked: saved, and the answer says which rules wait.
    const early = await put([{ service: 'mariadb', table: 'users', column: 'email', method: 'fake-email' }])
    assert.equal(early.statusCode, 200, early.body)
    assert.deepEqual((early.json() as { unchecked?: number[] }).unchecked, [0])

    await provision(tp, token, env, { type: 'mariadb' })
    const vars = await tp.platform.services.connectionVariables(env)
    const made = await mariadbSql(
      vars,
      'CREATE TABLE users (id INT PRIMARY KEY, email VARCHAR(200) NOT NULL, name VARCHAR(100))',
      environmentUser(tp, env),
    )
    assert.equal(made.code, 0, made.out)

    const events = await countEvents(tp.platform)
    const bad = await put([
      { service: 'mariadb', table: 'users', column: 'email', method: 'fake-email' },
      { service: 'mariadb', table: 'users', column: 'mail', method: 'hash' },
      { service: 'mariadb', table: 'customers', column: 'email', method: 'null' },
    ])
    assert.equal(bad.statusCode, 422, bad.body)
    const err = bad.json() as ErrorView
    assert.equal(err.error.code, 'rules_mismatch')
    assert.deepEqual(
      err.error.details?.map((d) => d.field),
      ['rules[1]', 'rules[2]'],
    )
    assert.match(
      err.error.details?.[0]?.message ?? '',
      /table users has no column mail \(mariadb main\/mariadb\)/,
    )
    assert.match(err.error.details?.[1]?.message ?? '', /table customers does not exist/)
    assert.match(err.error.message, /nothing was saved/)
    assert.equal(await countEvents(tp.platform), events, 'a refused save writes no audit event')
    const kept = (await tp.call('GET', `/v1/projects/${projectId}/anonymization`, { token })).json() as {
      rules: Array<{ column: string }>
    }
    assert.deepEqual(
      kept.rules.map((r) => r.column),
      ['email'],
      'the rules saved before are unchanged',
    )

    const good = await put([
      { service: 'mariadb', table: 'users', column: 'email', method: 'fake-email' },
      { service: 'mariadb', table: 'users', column: 'name', method: 'fake-name' },
    ])
    assert.equal(good.statusCode, 200, good.body)
    assert.equal((good.json() as { unchecked?: number[] }).unchecked, undefined, 'every rule was checked')
    assert.equal(await countEvents(tp.platform), events + 1)
  },
)
