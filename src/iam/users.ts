import type { Database, Transaction, Kysely } from '../store/index.js'
import { ConflictError, InvalidError } from '../shared/errors.js'
import { newId } from '../shared/ids.js'
import { IAM_ERRORS } from './errors.js'
import { hashPassword } from './password-hash.js'
import { passwordProblem } from './password-policy.js'

export interface User {
  readonly id: string
  readonly email: string
  readonly totpEnabled: boolean
  readonly createdAt: string
}

/** RFC 5321 caps an address at 254 characters; the pattern is deliberately simple. */
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,189}\.[^\s@]{2,63}$/

export function normaliseEmail(email: string): string {
  const e = email.trim().toLowerCase()
  if (e.length > 254 || !EMAIL.test(e)) {
    throw new InvalidError('PAL_IAM_EMAIL_INVALID', 'email is not a valid address', {
      details: [{ field: 'email', message: 'not a valid address' }],
    })
  }
  return e
}

export function assertPasswordAcceptable(password: string, email: string, field = 'password'): void {
  const problem = passwordProblem(password, [email, email.split('@')[0] ?? ''])
  if (problem)
    throw new InvalidError(IAM_ERRORS.weakPassword, `password ${problem}`, {
      details: [{ field, message: problem }],
    })
}

/** Creates a user; the password is checked against the policy and stored as an argon2id hash. */
export async function insertUser(
  trx: Transaction<Database>,
  at: Date,
  email: string,
  password: string,
): Promise<User> {
  const normalised = normaliseEmail(email)
  assertPasswordAcceptable(password, normalised)
  const exists = await trx.selectFrom('users').select('id').where('email', '=', normalised).executeTakeFirst()
  if (exists)
    throw new ConflictError(IAM_ERRORS.emailTaken, 'a user with this email exists', {
      publicCode: 'conflict',
    })
  const id = newId('usr')
  const now = at.toISOString()
  await trx
    .insertInto('users')
    .values({
      id,
      email: normalised,
      password_hash: await hashPassword(password),
      totp_secret: null,
      totp_enabled: 0,
      totp_last_step: null,
      password_changed_at: now,
      created_at: now,
      updated_at: now,
    })
    .execute()
  return { id, email: normalised, totpEnabled: false, createdAt: now }
}

export async function findUserById(db: Kysely<Database>, id: string): Promise<User | undefined> {
  const r = await db
    .selectFrom('users')
    .select(['id', 'email', 'totp_enabled', 'created_at'])
    .where('id', '=', id)
    .executeTakeFirst()
  return r
    ? { id: r.id, email: r.email, totpEnabled: r.totp_enabled === 1, createdAt: r.created_at }
    : undefined
}
