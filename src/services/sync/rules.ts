import { InvalidError, UnprocessableError, type ErrorDetail } from '../../shared/errors.js'
import { SYNC_ERRORS } from './errors.js'
import { FAKE_EMAIL_LENGTH, FAKE_NAME_MAX_LENGTH, HASH_LENGTH } from './fakes.js'

/** The SQL engines rules can name (Redis holds no schema: it is copied as is, and only when asked for). */
export const RULE_SERVICES = ['mariadb', 'postgresql'] as const
export type RuleService = (typeof RULE_SERVICES)[number]

export const RULE_METHODS = ['hash', 'fake-email', 'fake-name', 'null', 'constant', 'keep'] as const
export type RuleMethod = (typeof RULE_METHODS)[number]

/** One anonymization rule: what happens to one column of one table of every copied service of a type. */
export interface AnonymizationRule {
  readonly service: RuleService
  readonly table: string
  readonly column: string
  readonly method: RuleMethod
  /** Only with `constant`. */
  readonly value?: string
}

export const RULE_LIMITS = Object.freeze({
  /** Rules per project. */
  rules: 200,
  /** Identifier length: MariaDB allows 64, PostgreSQL 63 bytes; the smaller of both. */
  identifier: 63,
  /** Length of a `constant` value. */
  value: 200,
})

/**
 * Table and column names: plain ASCII identifiers only. They are quoted when used, but anything else
 * (quotes, backticks, dots, spaces) has no business in a rule and could only serve an injection attempt.
 */
export const IDENTIFIER_PATTERN = '^[A-Za-z_][A-Za-z0-9_]{0,62}$'
const IDENTIFIER = new RegExp(IDENTIFIER_PATTERN)
/** Printable text without control characters (NUL would end a C string in the server's parser). */
export const VALUE_PATTERN = '^[^\\u0000-\\u001f\\u007f]*$'
const VALUE = new RegExp(VALUE_PATTERN)

const invalid = (details: ErrorDetail[]): InvalidError =>
  new InvalidError(
    SYNC_ERRORS.invalidRules,
    `anonymization rules are invalid: ${details.map((d) => `${d.field} ${d.message}`).join('; ')}`,
    { details },
  )

/**
 * Checks the shape of a rule set (the API schema already bounds types and lengths; this is the domain's own
 * check, for callers other than the API): known service and method, identifiers, `value` only and always with
 * `constant`, no column named twice. Throws `invalid` naming every bad rule.
 */
export function assertRuleSet(rules: readonly AnonymizationRule[]): void {
  const details: ErrorDetail[] = []
  if (rules.length > RULE_LIMITS.rules)
    details.push({ field: 'rules', message: `at most ${RULE_LIMITS.rules} rules` })
  const seen = new Map<string, number>()
  rules.forEach((r, i) => {
    const field = `rules[${i}]`
    if (!(RULE_SERVICES as readonly string[]).includes(r.service))
      details.push({ field: `${field}.service`, message: `must be one of ${RULE_SERVICES.join(', ')}` })
    if (!(RULE_METHODS as readonly string[]).includes(r.method))
      details.push({ field: `${field}.method`, message: `must be one of ${RULE_METHODS.join(', ')}` })
    for (const k of ['table', 'column'] as const) {
      if (typeof r[k] !== 'string' || !IDENTIFIER.test(r[k]))
        details.push({ field: `${field}.${k}`, message: `must match ${IDENTIFIER_PATTERN}` })
    }
    if (r.method === 'constant') {
      if (typeof r.value !== 'string')
        details.push({ field: `${field}.value`, message: 'is required with constant' })
      else if (r.value.length > RULE_LIMITS.value || !VALUE.test(r.value))
        details.push({
          field: `${field}.value`,
          message: `must be at most ${RULE_LIMITS.value} characters without control characters`,
        })
    } else if (r.value !== undefined) {
      details.push({ field: `${field}.value`, message: 'is only allowed with constant' })
    }
    const key = `${r.service}/${r.table}/${r.column}`
    const first = seen.get(key)
    if (first !== undefined)
      details.push({ field, message: `names the same column as rules[${first}] (${r.table}.${r.column})` })
    else seen.set(key, i)
  })
  if (details.length > 0) throw invalid(details)
}

/** What the engines' catalogs say about one column of a base table (views are not updated, so not listed). */
export interface ColumnInfo {
  readonly table: string
  readonly column: string
  /** The catalog's type name, lower case (`varchar`, `character varying`, `int`, `jsonb`…). */
  readonly dataType: string
  readonly nullable: boolean
  /** Character limit of text columns; null when unlimited or not text. */
  readonly maxLength: number | null
  /** Computed by the server (cannot be assigned). */
  readonly generated: boolean
  /** MariaDB `ON UPDATE CURRENT_TIMESTAMP`: kept as it was when its row is rewritten. */
  readonly autoUpdate: boolean
}

export type ColumnKind = 'text' | 'integer' | 'decimal' | 'other'

const KINDS: Readonly<Record<string, ColumnKind>> = {
  // MariaDB
  char: 'text',
  varchar: 'text',
  tinytext: 'text',
  text: 'text',
  mediumtext: 'text',
  longtext: 'text',
  tinyint: 'integer',
  smallint: 'integer',
  mediumint: 'integer',
  int: 'integer',
  bigint: 'integer',
  decimal: 'decimal',
  float: 'decimal',
  double: 'decimal',
  // PostgreSQL (information_schema spelling)
  'character varying': 'text',
  character: 'text',
  integer: 'integer',
  numeric: 'decimal',
  real: 'decimal',
  'double precision': 'decimal',
}

export function kindOf(dataType: string): ColumnKind {
  return KINDS[dataType.toLowerCase()] ?? 'other'
}

/** Characters each generating method writes (the column must hold them: a truncated fake would not be unique). */
const WRITES: Partial<Record<RuleMethod, number>> = {
  hash: HASH_LENGTH,
  'fake-email': FAKE_EMAIL_LENGTH,
  'fake-name': FAKE_NAME_MAX_LENGTH,
}

/**
 * Problems of one rule against the columns of one service (empty: the rule applies). Pure: the caller reads
 * the catalog. Checks that the table and column exist, that the column can be assigned, and that the method
 * fits its type: generated text on text columns long enough to hold it, `null` on nullable columns,
 * `constant` on text (within the length) or numeric columns with a numeric value.
 */
export function ruleProblems(rule: AnonymizationRule, columns: readonly ColumnInfo[]): string[] {
  if (!columns.some((c) => c.table === rule.table)) return [`table ${rule.table} does not exist`]
  const col = columns.find((c) => c.table === rule.table && c.column === rule.column)
  if (!col) return [`table ${rule.table} has no column ${rule.column}`]
  if (rule.method === 'keep') return []
  if (col.generated) return [`${rule.table}.${rule.column} is computed by the server and cannot be assigned`]
  const kind = kindOf(col.dataType)
  const where = `${rule.table}.${rule.column} (${col.dataType})`
  const needs = WRITES[rule.method]
  if (needs !== undefined) {
    if (kind !== 'text') return [`${rule.method} needs a text column; ${where} is not one`]
    if (col.maxLength !== null && col.maxLength < needs)
      return [`${rule.method} writes up to ${needs} characters; ${where} holds ${col.maxLength}`]
    return []
  }
  if (rule.method === 'null')
    return col.nullable ? [] : [`null needs a nullable column; ${where} is NOT NULL`]
  // constant
  const value = rule.value ?? ''
  if (kind === 'text') {
    return col.maxLength !== null && [...value].length > col.maxLength
      ? [`the constant has ${[...value].length} characters; ${where} holds ${col.maxLength}`]
      : []
  }
  if (kind === 'integer') return /^-?[0-9]{1,18}$/.test(value) ? [] : [`${where} needs an integer constant`]
  if (kind === 'decimal')
    return /^-?[0-9]{1,30}(\.[0-9]{1,30})?$/.test(value) ? [] : [`${where} needs a numeric constant`]
  return [`constant works on text and numeric columns; ${where} is neither`]
}

/** One copied service and the columns of its database. */
export interface ServiceColumns {
  readonly name: string
  readonly type: RuleService
  readonly columns: readonly ColumnInfo[]
}

/**
 * Validates every rule against every copied service of its type; throws `unprocessable` (422) naming each bad
 * rule by index, before anything is copied. Returns the rules that apply, per service name.
 */
export function checkRulesAgainst(
  rules: readonly AnonymizationRule[],
  services: readonly ServiceColumns[],
): Map<string, AnonymizationRule[]> {
  const details: ErrorDetail[] = []
  const out = new Map<string, AnonymizationRule[]>(services.map((s) => [s.name, []]))
  rules.forEach((rule, i) => {
    for (const s of services.filter((x) => x.type === rule.service)) {
      const problems = ruleProblems(rule, s.columns)
      for (const message of problems)
        details.push({ field: `rules[${i}]`, message: `${message} (service ${s.name})` })
      if (problems.length === 0) out.get(s.name)?.push(rule)
    }
  })
  if (details.length > 0) {
    throw new UnprocessableError(
      SYNC_ERRORS.rulesMismatch,
      `anonymization rules do not fit the source's schema; nothing was copied: ${details
        .slice(0, 10)
        .map((d) => `${d.field}: ${d.message}`)
        .join('; ')}`,
      { details, publicCode: 'rules_mismatch' },
    )
  }
  return out
}

/** The running services a rule set is checked against when it is saved, by environment. */
export interface LabelledServiceColumns extends ServiceColumns {
  /** `<environment>/<service>`, for messages. */
  readonly label: string
}

/**
 * Checks at save time that each rule's table and column exist in the project's running services of the rule's
 * type (any one of them: which environment will be the source is not known yet). The column's type and
 * length are checked at each sync against the actual source, whose schema may change meanwhile. Throws
 * `unprocessable` (422) naming each rule whose table or column is found nowhere. Answers the indexes of rules
 * that could not be checked (no running service of their type in the project).
 */
export function assertRulesNameExistingColumns(
  rules: readonly AnonymizationRule[],
  services: readonly LabelledServiceColumns[],
): number[] {
  const details: ErrorDetail[] = []
  const unchecked: number[] = []
  rules.forEach((rule, i) => {
    const candidates = services.filter((s) => s.type === rule.service)
    if (candidates.length === 0) {
      unchecked.push(i)
      return
    }
    if (candidates.some((s) => s.columns.some((c) => c.table === rule.table && c.column === rule.column)))
      return
    const hasTable = candidates.some((s) => s.columns.some((c) => c.table === rule.table))
    const where = candidates.map((s) => s.label).join(', ')
    details.push({
      field: `rules[${i}]`,
      message: hasTable
        ? `table ${rule.table} has no column ${rule.column} (${rule.service} ${where})`
        : `table ${rule.table} does not exist (${rule.service} ${where})`,
    })
  })
  if (details.length > 0)
    throw new UnprocessableError(
      SYNC_ERRORS.rulesMismatch,
      `anonymization rules name tables or columns that do not exist; nothing was saved: ${details
        .slice(0, 10)
        .map((d) => `${d.field}: ${d.message}`)
        .join('; ')}`,
      { details, publicCode: 'rules_mismatch' },
    )
  return unchecked
}
