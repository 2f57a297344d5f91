import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isPalisadeError } from '../../shared/errors.js'
import {
  assertRuleSet,
  checkRulesAgainst,
  ruleProblems,
  RULE_LIMITS,
  type AnonymizationRule,
  type ColumnInfo,
} from './rules.js'

const col = (
  table: string,
  column: string,
  dataType: string,
  extra: Partial<ColumnInfo> = {},
): ColumnInfo => ({
  table,
  column,
  dataType,
  nullable: true,
  maxLength: dataType === 'varchar' || dataType === 'character varying' ? 255 : null,
  generated: false,
  autoUpdate: false,
  ...extra,
})

const USERS: ColumnInfo[] = [
  col('users', 'id', 'int', { nullable: false }),
  col('users', 'email', 'varchar', { nullable: false }),
  col('users', 'short', 'varchar', { maxLength: 20 }),
  col('users', 'name', 'text'),
  col('users', 'age', 'int'),
  col('users', 'score', 'decimal'),
  col('users', 'born', 'date'),
  col('users', 'lower_email', 'varchar', { generated: true }),
]

const rule = (
  r: Partial<AnonymizationRule> & Pick<AnonymizationRule, 'column' | 'method'>,
): AnonymizationRule => ({
  service: 'mariadb',
  table: 'users',
  ...r,
})

function codeOf(fn: () => unknown): { code: string; fields: string[] } {
  try {
    fn()
  } catch (error) {
    assert.ok(isPalisadeError(error), String(error))
    return { code: error.code, fields: (error.details ?? []).map((d) => d.field) }
  }
  assert.fail('did not throw')
}

test('a well-formed rule set passes the shape check', () => {
  assertRuleSet([
    rule({ column: 'email', method: 'fake-email' }),
    rule({ column: 'name', method: 'constant', value: 'Redacted' }),
    rule({ service: 'postgresql', column: 'email', method: 'hash' }),
  ])
})

test('the shape check names every bad rule: identifiers, value only with constant, duplicates', () => {
  const { code, fields } = codeOf(() =>
    assertRuleSet([
      rule({ table: 'users; DROP TABLE x', column: 'email', method: 'hash' }),
      rule({ column: 'e`mail', method: 'hash' }),
      rule({ column: 'name', method: 'hash', value: 'x' }),
      rule({ column: 'age', method: 'constant' }),
      rule({ column: 'score', method: 'constant', value: 'a\u0000b' }),
      rule({ column: 'email', method: 'null' }),
      rule({ column: 'email', method: 'keep' }),
      { ...rule({ column: 'x', method: 'hash' }), service: 'redis' as never },
      { ...rule({ column: 'y', method: 'shuffle' as never }) },
    ]),
  )
  assert.equal(code, 'PAL_SYNC_RULES_INVALID')
  assert.deepEqual(fields, [
    'rules[0].table',
    'rules[1].column',
    'rules[2].value',
    'rules[3].value',
    'rules[4].value',
    'rules[6]',
    'rules[7].service',
    'rules[8].method',
  ])
})

test('the shape check bounds the number of rules and the length of identifiers and values', () => {
  const many = Array.from({ length: RULE_LIMITS.rules + 1 }, (_, i) =>
    rule({ column: `c${i}`, method: 'keep' }),
  )
  assert.deepEqual(codeOf(() => assertRuleSet(many)).fields, ['rules'])
  assert.deepEqual(codeOf(() => assertRuleSet([rule({ column: 'a'.repeat(64), method: 'keep' })])).fields, [
    'rules[0].column',
  ])
  assertRuleSet([rule({ column: 'a'.repeat(63), method: 'keep' })])
  assert.deepEqual(
    codeOf(() => assertRuleSet([rule({ column: 'a', method: 'constant', value: 'v'.repeat(201) })])).fields,
    ['rules[0].value'],
  )
})

test('a rule fits when its table and column exist and the method suits the type', () => {
  for (const r of [
    rule({ column: 'email', method: 'fake-email' }),
    rule({ column: 'email', method: 'hash' }),
    rule({ column: 'name', method: 'fake-name' }),
    rule({ column: 'name', method: 'null' }),
    rule({ column: 'age', method: 'constant', value: '-42' }),
    rule({ column: 'score', method: 'constant', value: '3.25' }),
    rule({ column: 'short', method: 'constant', value: 'x'.repeat(20) }),
    rule({ column: 'born', method: 'keep' }),
    rule({ column: 'lower_email', method: 'keep' }),
  ])
    assert.deepEqual(ruleProblems(r, USERS), [], `${r.column} ${r.method}`)
})

test('a rule that does not fit the schema says why', () => {
  const cases: Array<[AnonymizationRule, RegExp]> = [
    [rule({ table: 'customers', column: 'email', method: 'hash' }), /table customers does not exist/],
    [rule({ column: 'mail', method: 'hash' }), /has no column mail/],
    [rule({ column: 'age', method: 'fake-email' }), /needs a text column/],
    [rule({ column: 'born', method: 'fake-name' }), /needs a text column/],
    [
      rule({ column: 'short', method: 'fake-email' }),
      /writes up to 37 characters; users.short \(varchar\) holds 20/,
    ],
    [rule({ column: 'short', method: 'hash' }), /writes up to 32 characters/],
    [rule({ column: 'email', method: 'null' }), /NOT NULL/],
    [rule({ column: 'age', method: 'constant', value: 'ten' }), /needs an integer constant/],
    [rule({ column: 'score', method: 'constant', value: '1e9' }), /needs a numeric constant/],
    [rule({ column: 'born', method: 'constant', value: '2020-01-01' }), /text and numeric columns/],
    [rule({ column: 'short', method: 'constant', value: 'x'.repeat(21) }), /holds 20/],
    [rule({ column: 'lower_email', method: 'hash' }), /computed by the server/],
  ]
  for (const [r, why] of cases) {
    const problems = ruleProblems(r, USERS)
    assert.equal(problems.length, 1, `${r.column} ${r.method}`)
    assert.match(problems[0] ?? '', why)
  }
})

test('checking against the copied services: 422 naming each bad rule, rules of absent types ignored', () => {
  const rules = [
    rule({ column: 'email', method: 'fake-email' }),
    rule({ column: 'mail', method: 'hash' }),
    rule({ service: 'postgresql', table: 'accounts', column: 'email', method: 'hash' }),
  ]
  const { code, fields } = codeOf(() =>
    checkRulesAgainst(rules, [
      { name: 'mariadb', type: 'mariadb', columns: USERS },
      { name: 'reports', type: 'mariadb', columns: USERS },
    ]),
  )
  assert.equal(code, 'PAL_SYNC_RULES_MISMATCH')
  assert.deepEqual(fields, ['rules[1]', 'rules[1]'])

  const applied = checkRulesAgainst(
    [rules[0] as AnonymizationRule, rules[2] as AnonymizationRule],
    [{ name: 'db', type: 'mariadb', columns: USERS }],
  )
  assert.deepEqual(applied.get('db'), [rules[0]])
})
