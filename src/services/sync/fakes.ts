import { createHmac } from 'node:crypto'

/**
 * The anonymizing generators, twice: as JavaScript (the reference, unit-tested) and as SQL for MariaDB and
 * PostgreSQL (run inside the database, one UPDATE per table; the end-to-end test checks that both agree).
 *
 * Every generator starts from HMAC-SHA256(projectKey, the value's UTF-8 bytes), so the same input always gives
 * the same output within a project (joins and uniqueness survive) while nobody without the key can invert it or
 * test guesses against it (a plain hash of an e-mail address is reversible by dictionary). NULL stays NULL.
 */

/** Characters of a `hash` result: the first 128 bits of the HMAC, in hex. */
export const HASH_LENGTH = 32
/** `user-<16 hex>@example.invalid`: `.invalid` is reserved (RFC 2606), so no mail can ever reach anyone. */
export const FAKE_EMAIL_DOMAIN = 'example.invalid'
const EMAIL_HEX = 16
export const FAKE_EMAIL_LENGTH = 'user-'.length + EMAIL_HEX + 1 + FAKE_EMAIL_DOMAIN.length

export const FIRST_NAMES = [
  'Ada',
  'Alan',
  'Alice',
  'Amara',
  'Arun',
  'Bea',
  'Boris',
  'Chen',
  'Clara',
  'Dara',
  'Diego',
  'Elif',
  'Emil',
  'Fatima',
  'Femi',
  'Grace',
  'Hana',
  'Igor',
  'Ines',
  'Jonas',
  'Kai',
  'Lena',
  'Luca',
  'Maya',
  'Mateo',
  'Nia',
  'Noor',
  'Olga',
  'Omar',
  'Priya',
  'Quinn',
  'Rosa',
  'Sami',
  'Sofia',
  'Tariq',
  'Uma',
  'Vera',
  'Wei',
  'Yara',
  'Zoe',
] as const
export const LAST_NAMES = [
  'Abe',
  'Berg',
  'Costa',
  'Diaz',
  'Eriksen',
  'Fischer',
  'Garcia',
  'Haddad',
  'Ito',
  'Jensen',
  'Kowalski',
  'Larsen',
  'Moreau',
  'Nakamura',
  'Novak',
  'Okafor',
  'Petrov',
  'Quispe',
  'Rossi',
  'Silva',
  'Tanaka',
  'Umar',
  'Varga',
  'Weber',
  'Xu',
  'Yilmaz',
  'Zhang',
  'Bauer',
  'Cohen',
  'Dubois',
  'Evans',
  'Fontaine',
  'Gupta',
  'Horvat',
  'Ivanova',
  'Kim',
  'Lopez',
  'Mensah',
  'Nguyen',
  'Olsen',
] as const
export const FAKE_NAME_MAX_LENGTH =
  Math.max(...FIRST_NAMES.map((n) => n.length)) + 1 + Math.max(...LAST_NAMES.map((n) => n.length))

/** Only characters that need no quoting in SQL literals: the lists are spliced into statements. */
const PLAIN = /^[A-Za-z]+$/
for (const n of [...FIRST_NAMES, ...LAST_NAMES]) if (!PLAIN.test(n)) throw new Error(`bad built-in name ${n}`)

/** HMAC-SHA256 of the UTF-8 bytes of `value` under `key`, lower-case hex. */
export function hmacHex(key: Buffer, value: string): string {
  return createHmac('sha256', key).update(value, 'utf8').digest('hex')
}

export function fakeHash(key: Buffer, value: string): string {
  return hmacHex(key, value).slice(0, HASH_LENGTH)
}

export function fakeEmail(key: Buffer, value: string): string {
  return `user-${hmacHex(key, value).slice(0, EMAIL_HEX)}@${FAKE_EMAIL_DOMAIN}`
}

export function fakeName(key: Buffer, value: string): string {
  const h = hmacHex(key, value)
  const first = FIRST_NAMES[parseInt(h.slice(0, 4), 16) % FIRST_NAMES.length] as string
  const last = LAST_NAMES[parseInt(h.slice(4, 8), 16) % LAST_NAMES.length] as string
  return `${first} ${last}`
}

/** True for the values `fake-email` produces (tests, and anyone checking a copy). */
export function isFakeEmail(value: string): boolean {
  return new RegExp(`^user-[0-9a-f]{${EMAIL_HEX}}@example\\.invalid$`).test(value)
}

/** The inner and outer HMAC pads of `key` (RFC 2104, SHA-256 block of 64 bytes), hex. */
export function hmacPads(key: Buffer): { inner: string; outer: string } {
  if (key.length > 64 || key.length === 0) throw new Error('HMAC key must be 1–64 bytes')
  const block = Buffer.alloc(64)
  key.copy(block)
  const inner = Buffer.from(block.map((b) => b ^ 0x36))
  const outer = Buffer.from(block.map((b) => b ^ 0x5c))
  return { inner: inner.toString('hex'), outer: outer.toString('hex') }
}

export type SqlDialect = 'mariadb' | 'postgresql'

export const quoteIdent = (dialect: SqlDialect, s: string): string =>
  dialect === 'mariadb' ? '`' + s.replace(/`/g, '``') + '`' : '"' + s.replace(/"/g, '""') + '"'

/** A string literal; MariaDB also treats backslash as an escape unless NO_BACKSLASH_ESCAPES is on. */
export const quoteLiteral = (dialect: SqlDialect, s: string): string =>
  dialect === 'mariadb' ? `'${s.replace(/\\/g, '\\\\').replace(/'/g, "''")}'` : `'${s.replace(/'/g, "''")}'`

/** SQL computing hmacHex(key, column) on the server; the key enters only as its two pads. */
export function sqlHmac(dialect: SqlDialect, key: Buffer, column: string): string {
  const { inner, outer } = hmacPads(key)
  const col = quoteIdent(dialect, column)
  if (dialect === 'mariadb') {
    // CONVERT: the bytes hashed are UTF-8 whatever the column's character set is.
    // Binary all the way: CONCAT of a hex literal and a text value would be checked as utf8mb4 text.
    return `SHA2(CONCAT(UNHEX('${outer}'), UNHEX(SHA2(CONCAT(UNHEX('${inner}'), CAST(CONVERT(${col} USING utf8mb4) AS BINARY)), 256))), 256)`
  }
  return `encode(sha256(decode('${outer}', 'hex') || sha256(decode('${inner}', 'hex') || convert_to(${col}::text, 'UTF8'))), 'hex')`
}

function sqlPick(dialect: SqlDialect, hex: string, from: number, list: readonly string[]): string {
  const items = list.map((n) => `'${n}'`).join(', ')
  if (dialect === 'mariadb')
    return `ELT(1 + CONV(SUBSTRING(${hex}, ${from + 1}, 4), 16, 10) MOD ${list.length}, ${items})`
  return `(ARRAY[${items}])[1 + (('x' || substr(${hex}, ${from + 1}, 4))::bit(16)::int % ${list.length})]`
}

/** The SQL expression a rule assigns to its column (`keep` assigns nothing: undefined). */
export function sqlExpression(
  dialect: SqlDialect,
  key: Buffer,
  rule: { readonly column: string; readonly method: string; readonly value?: string },
): string | undefined {
  const h = (): string => sqlHmac(dialect, key, rule.column)
  const concat = (...parts: string[]): string =>
    dialect === 'mariadb' ? `CONCAT(${parts.join(', ')})` : parts.join(' || ')
  switch (rule.method) {
    case 'hash':
      return dialect === 'mariadb' ? `LEFT(${h()}, ${HASH_LENGTH})` : `left(${h()}, ${HASH_LENGTH})`
    case 'fake-email':
      return concat(
        "'user-'",
        dialect === 'mariadb' ? `LEFT(${h()}, ${EMAIL_HEX})` : `left(${h()}, ${EMAIL_HEX})`,
        `'@${FAKE_EMAIL_DOMAIN}'`,
      )
    case 'fake-name':
      return concat(sqlPick(dialect, h(), 0, FIRST_NAMES), "' '", sqlPick(dialect, h(), 4, LAST_NAMES))
    case 'null':
      return 'NULL'
    case 'constant':
      return quoteLiteral(dialect, rule.value ?? '')
    default:
      return undefined
  }
}

/**
 * One UPDATE per table, assigning every rule's expression. Each expression reads only its own column, so the
 * order of assignments does not matter (MariaDB assigns left to right, PostgreSQL all at once). `keepAsIs` are columns that would change by themselves on UPDATE
 * (MariaDB's ON UPDATE CURRENT_TIMESTAMP) and are assigned to themselves to stay as they were.
 */
export function updateStatements(
  dialect: SqlDialect,
  key: Buffer,
  rules: ReadonlyArray<{
    readonly table: string
    readonly column: string
    readonly method: string
    readonly value?: string
  }>,
  keepAsIs: ReadonlyMap<string, readonly string[]> = new Map(),
): string[] {
  const byTable = new Map<string, string[]>()
  for (const r of rules) {
    const expr = sqlExpression(dialect, key, r)
    if (expr === undefined) continue
    const list = byTable.get(r.table) ?? []
    list.push(`${quoteIdent(dialect, r.column)} = ${expr}`)
    byTable.set(r.table, list)
  }
  return [...byTable.entries()].map(([table, sets]) => {
    const assigned = new Set(rules.filter((r) => r.table === table).map((r) => r.column))
    const keep = (keepAsIs.get(table) ?? [])
      .filter((c) => !assigned.has(c))
      .map((c) => `${quoteIdent(dialect, c)} = ${quoteIdent(dialect, c)}`)
    return `UPDATE ${quoteIdent(dialect, table)} SET ${[...sets, ...keep].join(', ')}`
  })
}
