import { timingSafeEqual } from 'node:crypto'
import { diffChanges, type AuditLog } from '../audit/index.js'
import type { Database, Kysely } from '../store/index.js'
import type { Clock } from '../shared/clock.js'
import type { RequestContext } from '../shared/context.js'
import { InvalidError } from '../shared/errors.js'
import { sha256Hex } from '../shared/hash.js'
import { newId, newSecret } from '../shared/ids.js'
import { IAM_ERRORS } from './errors.js'
import { createLoginThrottle, type LoginThrottle, type LoginThrottleOptions } from './login-throttle.js'
import type { Mailer } from './mailer.js'
import { hashPassword } from './password-hash.js'
import { PASSWORD_MAX_LENGTH } from './password-policy.js'
import { assertPasswordAcceptable, normaliseEmail } from './users.js'

/** Reset tokens look like `prt_<id>.<secret>`: the id finds the row, the secret is compared by digest. */
export const RESET_TOKEN_PREFIX = 'prt_'

export const RESET_LIMITS = Object.freeze({
  /** How long a mailed link works. */
  ttlMinutes: 30,
  /** Requests per address (known or not) and per source per window: mail bombing and probing. */
  requests: Object.freeze({ accountAttempts: 3, sourceAttempts: 20, windowSeconds: 3600 }),
  /** Confirmations per token and per source per window. */
  confirms: Object.freeze({ accountAttempts: 10, sourceAttempts: 50, windowSeconds: 15 * 60 }),
})

/** The request and confirmation throttles (in memory, or shared through `base.redis`). */
export function createResetThrottles(base: LoginThrottleOptions = {}): {
  request: LoginThrottle
  confirm: LoginThrottle
} {
  return {
    request: createLoginThrottle({
      ...base,
      prefix: 'reset-request',
      limits: RESET_LIMITS.requests,
      message: 'too many password reset requests; try again later',
    }),
    confirm: createLoginThrottle({
      ...base,
      prefix: 'reset-confirm',
      limits: RESET_LIMITS.confirms,
      message: 'too many password reset attempts; try again later',
    }),
  }
}

export interface PasswordResetDeps {
  readonly db: Kysely<Database>
  readonly clock: Clock
  readonly audit: AuditLog
  readonly mailer: Mailer
  /** Base of the mailed link (`<publicUrl>/password-reset/<token>`). */
  readonly publicUrl: string
  /** Request and confirmation throttles (default: in memory; Redis-backed ones share limits across processes). */
  readonly requestThrottle?: LoginThrottle
  readonly confirmThrottle?: LoginThrottle
  /** Where a mail that could not be sent is reported (never to the requester: that would reveal the account). */
  readonly onMailError?: (error: unknown) => void
}

export interface PasswordResets {
  /**
   * Mails a reset link to the account with this address, if there is one. Answers the same, at the same
   * speed, whether or not it exists: the work (token, audit, mail) runs after the answer.
   */
  request(ctx: RequestContext, email: string): Promise<void>
  /** Sets a new password with a mailed token, once; every session of the user ends. */
  confirm(ctx: RequestContext, token: string, password: string): Promise<{ email: string }>
  /** Resolves when requests in flight have finished their mail (tests, shutdown). */
  idle(): Promise<void>
}

const invalidToken = (): InvalidError =>
  new InvalidError(
    IAM_ERRORS.resetTokenInvalid,
    'this password reset link is unknown, expired or already used; ask for a new one with `palisade password reset <email>`',
    { publicCode: 'reset_token_invalid', details: [{ field: 'token', message: 'unknown, expired or used' }] },
  )

/** Splits `prt_<id>.<secret>` (the link's last path segment or the bare token). */
function parseToken(token: string): { id: string; secret: string } | undefined {
  if (token.length > 200 || !token.startsWith(RESET_TOKEN_PREFIX)) return undefined
  const dot = token.indexOf('.')
  if (dot < 0) return undefined
  const id = token.slice(0, dot)
  const secret = token.slice(dot + 1)
  return /^prt_[A-Za-z0-9]{1,40}$/.test(id) && /^[A-Za-z0-9_-]{20,100}$/.test(secret)
    ? { id, secret }
    : undefined
}

/**
 * Self-service password reset by e-mail (ASVS 2.5): a single-use token valid for 30 minutes, mailed as a link,
 * stored as a digest; confirmation sets the new password under the same policy as set-up (length, breached
 * and guessable passwords refused), revokes every session of the user and all their other reset tokens.
 * Two-factor authentication stays on: a reset never signs anyone in.
 */
export function createPasswordResets(deps: PasswordResetDeps): PasswordResets {
  const { db, clock, audit } = deps
  const defaults = deps.requestThrottle && deps.confirmThrottle ? undefined : createResetThrottles()
  const requests = deps.requestThrottle ?? defaults!.request
  const confirms = deps.confirmThrottle ?? defaults!.confirm
  const inFlight = new Set<Promise<void>>()

  async function issue(ctx: RequestContext, email: string): Promise<void> {
    const user = await db
      .selectFrom('users')
      .select(['id', 'email'])
      .where('email', '=', email)
      .executeTakeFirst()
    if (!user) return
    const id = newId('prt')
    const token = `${id}.${newSecret(32)}`
    const now = clock.now()
    const expires = new Date(now.getTime() + RESET_LIMITS.ttlMinutes * 60_000)
    await db.transaction().execute(async (trx) => {
      // One live link per account: a new request retires the previous ones.
      await trx
        .updateTable('password_resets')
        .set({ used_at: now.toISOString() })
        .where('user_id', '=', user.id)
        .where('used_at', 'is', null)
        .execute()
      await trx
        .insertInto('password_resets')
        .values({
          id,
          user_id: user.id,
          token_hash: sha256Hex(token.slice(id.length + 1)),
          requested_ip: ctx.ip,
          created_at: now.toISOString(),
          expires_at: expires.toISOString(),
          used_at: null,
        })
        .execute()
      await audit.record(trx, {
        actor: { type: 'user', id: user.id, email: user.email },
        action: 'user.password.reset.request',
        target: { type: 'user', id: user.id },
        workspaceId: null,
        changes: diffChanges(null, { expiresAt: expires.toISOString() }),
        context: ctx,
      })
    })
    const link = `${deps.publicUrl}/password-reset/${token}`
    await deps.mailer.send({
      to: user.email,
      subject: 'Reset your Palisade password',
      text: [
        `Someone (hopefully you${ctx.ip ? `, from ${ctx.ip}` : ''}) asked to reset the password of the Palisade account ${user.email}.`,
        '',
        `Choose a new password here within ${RESET_LIMITS.ttlMinutes} minutes (the link works once):`,
        link,
        '',
        'Or in a terminal:',
        `  palisade password reset --token ${token}`,
        '',
        'Every session of the account ends when the password is changed; two-factor authentication stays on.',
        'If you did not ask for this, ignore this e-mail: your password stays as it is.',
      ].join('\n'),
    })
  }

  return {
    async request(ctx, rawEmail) {
      // Throttled by the address as typed, known or not, and by the source: mail bombing and probing alike.
      await requests.take(rawEmail, ctx.ip)
      // A malformed address is refused (400): that says nothing about accounts.
      const email = normaliseEmail(rawEmail)
      const work = issue(ctx, email)
        .catch((error: unknown) => deps.onMailError?.(error))
        .finally(() => inFlight.delete(work))
      inFlight.add(work)
    },

    async confirm(ctx, token, password) {
      const parsed = parseToken(token)
      await confirms.take(parsed?.id ?? 'malformed', ctx.ip)
      if (!parsed || password.length > PASSWORD_MAX_LENGTH) throw invalidToken()
      const row = await db
        .selectFrom('password_resets')
        .innerJoin('users', 'users.id', 'password_resets.user_id')
        .select([
          'password_resets.id',
          'password_resets.token_hash',
          'password_resets.expires_at',
          'password_resets.used_at',
          'users.id as userId',
          'users.email',
        ])
        .where('password_resets.id', '=', parsed.id)
        .executeTakeFirst()
      // Compared in constant time (the digest of a wrong secret leaks nothing about the right one either).
      const given = Buffer.from(sha256Hex(parsed.secret), 'hex')
      const stored = Buffer.from(row?.token_hash ?? '0'.repeat(64), 'hex')
      const matches = stored.length === given.length && timingSafeEqual(stored, given)
      const now = clock.now()
      if (!row || !matches || row.used_at !== null || Date.parse(row.expires_at) <= now.getTime())
        throw invalidToken()
      assertPasswordAcceptable(password, row.email, 'password')
      const hash = await hashPassword(password)
      const at = now.toISOString()
      await db.transaction().execute(async (trx) => {
        // Conditional: two confirmations of one token cannot both win.
        const burnt = await trx
          .updateTable('password_resets')
          .set({ used_at: at })
          .where('id', '=', row.id)
          .where('used_at', 'is', null)
          .executeTakeFirst()
        if (Number(burnt.numUpdatedRows) !== 1) throw invalidToken()
        await trx
          .updateTable('password_resets')
          .set({ used_at: at })
          .where('user_id', '=', row.userId)
          .where('used_at', 'is', null)
          .execute()
        await trx
          .updateTable('users')
          .set({ password_hash: hash, password_changed_at: at, updated_at: at })
          .where('id', '=', row.userId)
          .execute()
        const ended = await trx
          .updateTable('sessions')
          .set({ revoked_at: at })
          .where('user_id', '=', row.userId)
          .where('revoked_at', 'is', null)
          .executeTakeFirst()
        await audit.record(trx, {
          actor: { type: 'user', id: row.userId, email: row.email },
          action: 'user.password.reset',
          target: { type: 'user', id: row.userId },
          workspaceId: null,
          changes: {
            ...diffChanges({ password: 'old' }, { password: 'new' }, ['password']),
            sessionsRevoked: { after: Number(ended.numUpdatedRows) },
          },
          context: ctx,
        })
      })
      await confirms.succeeded(parsed.id, ctx.ip)
      return { email: row.email }
    },

    async idle() {
      await Promise.all([...inFlight])
    },
  }
}
