import { Secret, TOTP } from 'otpauth'
import type { Database, Kysely, Transaction } from '../store/index.js'
import type { Clock } from '../shared/clock.js'
import { ConflictError, UnauthenticatedError } from '../shared/errors.js'
import { sha256Hex } from '../shared/hash.js'
import { newId, randomToken } from '../shared/ids.js'
import type { SecretBox } from '../shared/secret-box.js'
import { IAM_ERRORS } from './errors.js'

/** RFC 6238 with the parameters every authenticator app supports. */
const PERIOD = 30
const DIGITS = 6
/** ±1 step: tolerates 30 s of clock drift (ASVS 6.5.5 keeps the window small). */
const WINDOW = 1
export const RECOVERY_CODE_COUNT = 10

const ISSUER = 'Palisade'
const sealContext = (userId: string): string => `totp:${userId}`

function totpFor(secret: Secret, label: string): TOTP {
  return new TOTP({ issuer: ISSUER, label, algorithm: 'SHA1', digits: DIGITS, period: PERIOD, secret })
}

/** A new 160-bit secret, sealed for storage; the plain base32 and URI go to the user once. */
export function newTotpSecret(
  box: SecretBox,
  userId: string,
  email: string,
): { secret: string; uri: string; sealed: string } {
  const secret = new Secret({ size: 20 })
  return {
    secret: secret.base32,
    uri: totpFor(secret, email).toString(),
    sealed: box.seal(secret.base32, sealContext(userId)),
  }
}

/** Recovery codes: 10 random groups of 5+5 characters (~51 bits each); only their SHA-256 is stored. */
export function newRecoveryCodes(): string[] {
  return Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    const t = randomToken(10)
    return `${t.slice(0, 5)}-${t.slice(5)}`
  })
}

function recoveryHash(code: string): string {
  return sha256Hex('recovery:' + code.toLowerCase().replace(/[^a-z0-9]/g, ''))
}

export async function storeRecoveryCodes(
  trx: Transaction<Database>,
  clock: Clock,
  userId: string,
  codes: readonly string[],
): Promise<void> {
  await trx.deleteFrom('recovery_codes').where('user_id', '=', userId).execute()
  const now = clock.now().toISOString()
  await trx
    .insertInto('recovery_codes')
    .values(
      codes.map((c) => ({
        id: newId('rcv'),
        user_id: userId,
        code_hash: recoveryHash(c),
        created_at: now,
        used_at: null,
      })),
    )
    .execute()
}

const invalid = (): never => {
  throw new UnauthenticatedError(IAM_ERRORS.totpInvalid, 'two-factor code is not valid', {
    publicCode: 'invalid_totp',
  })
}

/**
 * Checks a TOTP code (or, when `allowRecovery`, a recovery code) for the user and burns it:
 * the code's time step is stored and any step at or before it is refused (replay, RFC 6238 §5.2);
 * a recovery code is marked used. Both updates are conditional, so two parallel uses of one code
 * cannot both succeed.
 */
export async function useSecondFactor(
  db: Kysely<Database> | Transaction<Database>,
  box: SecretBox,
  clock: Clock,
  user: { id: string; email: string; totp_secret: string | null; totp_last_step: number | null },
  code: string,
  allowRecovery: boolean,
): Promise<'totp' | 'recovery'> {
  const trimmed = code.replace(/\s+/g, '')
  if (/^\d{6}$/.test(trimmed)) {
    if (user.totp_secret === null) return invalid()
    const secret = Secret.fromBase32(box.open(user.totp_secret, sealContext(user.id)))
    const now = clock.now().getTime()
    const delta = totpFor(secret, user.email).validate({ token: trimmed, timestamp: now, window: WINDOW })
    if (delta === null) return invalid()
    const step = Math.floor(now / 1000 / PERIOD) + delta
    if (user.totp_last_step !== null && step <= user.totp_last_step) {
      throw new UnauthenticatedError(
        IAM_ERRORS.totpReplayed,
        'this two-factor code was already used; wait for the next one',
        { publicCode: 'totp_replayed' },
      )
    }
    const res = await db
      .updateTable('users')
      .set({ totp_last_step: step })
      .where('id', '=', user.id)
      .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
      .executeTakeFirst()
    if (Number(res.numUpdatedRows) !== 1) {
      throw new UnauthenticatedError(
        IAM_ERRORS.totpReplayed,
        'this two-factor code was already used; wait for the next one',
        { publicCode: 'totp_replayed' },
      )
    }
    return 'totp'
  }
  if (!allowRecovery || trimmed.length > 32) return invalid()
  const res = await db
    .updateTable('recovery_codes')
    .set({ used_at: clock.now().toISOString() })
    .where('user_id', '=', user.id)
    .where('code_hash', '=', recoveryHash(trimmed))
    .where('used_at', 'is', null)
    .executeTakeFirst()
  if (Number(res.numUpdatedRows) !== 1) return invalid()
  return 'recovery'
}

export function assertNotEnabled(enabled: number): void {
  if (enabled === 1)
    throw new ConflictError(
      IAM_ERRORS.totpEnabled,
      'two-factor authentication is already on; turn it off first',
      { publicCode: 'totp_enabled' },
    )
}

/** For tests and the CLI: the current code of a base32 secret. */
export function totpCode(base32: string, at: Date): string {
  return TOTP.generate({
    secret: Secret.fromBase32(base32),
    algorithm: 'SHA1',
    digits: DIGITS,
    period: PERIOD,
    timestamp: at.getTime(),
  })
}
