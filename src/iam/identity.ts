import { diffChanges, type AuditLog } from '../audit/index.js'
import type { Database, Dialect, Kysely } from '../store/index.js'
import type { Clock } from '../shared/clock.js'
import type { RequestContext } from '../shared/context.js'
import { InvalidError, NotFoundError, UnauthenticatedError } from '../shared/errors.js'
import type { SecretBox } from '../shared/secret-box.js'
import { API_TOKEN_PREFIX, createApiTokens, type ApiTokens } from './api-tokens.js'
import { authorizeAccount } from './authorize.js'
import { IAM_ERRORS } from './errors.js'
import { createIpGroups, type IpGroups } from './ip-groups.js'
import type { Mailer } from './mailer.js'
import { createIncidents, type Incidents } from './incidents.js'
import { createMembers, type Members } from './members.js'
import { createPasswordResets, type PasswordResets } from './password-resets.js'
import { createSshKeys, type SshKeys } from './ssh-keys.js'
import { createLoginThrottle, type LoginThrottle } from './login-throttle.js'
import { createMemoryNonceStore, type NonceStore } from './nonce-store.js'
import { hashPassword, verifyAgainstDummy, verifyPassword } from './password-hash.js'
import { actorOf, type Principal } from './principal.js'
import { createSignatureVerifier, type SignatureVerifier } from './request-signature.js'
import {
  createSession,
  findSession,
  listSessions,
  revokeSession,
  SESSION_PREFIX,
  type NewSession,
  type SessionInfo,
  type SessionPolicy,
} from './sessions.js'
import {
  assertNotEnabled,
  newRecoveryCodes,
  newTotpSecret,
  storeRecoveryCodes,
  useSecondFactor,
} from './totp.js'
import { assertPasswordAcceptable, findUserById, normaliseEmail, type User } from './users.js'
import { PASSWORD_MAX_LENGTH } from './password-policy.js'

export interface IdentityDeps {
  readonly db: Kysely<Database>
  readonly dialect: Dialect
  readonly clock: Clock
  readonly audit: AuditLog
  readonly sessions: SessionPolicy
  /** Seals TOTP secrets and signing keys at rest. */
  readonly secrets: SecretBox
  /** Login throttle (default: in memory, per process). */
  readonly throttle?: LoginThrottle
  /** Nonces of signed requests (default: in memory, per process). */
  readonly nonces?: NonceStore
  /** Sends invitation e-mails. */
  readonly mailer: Mailer
  /** Puts an environment in maintenance mode for good (incident `restrict`); absent in API-only set-ups. */
  readonly restrictEnvironment?: (environmentId: string) => Promise<void>
  /** Base of links in e-mails (`<publicUrl>/invitations/<token>`). */
  readonly publicUrl: string
  /** Password reset throttles (default: in memory, per process). */
  readonly resetThrottles?: { readonly request: LoginThrottle; readonly confirm: LoginThrottle }
  /** A reset mail that could not be sent (the requester is told nothing either way). */
  readonly onResetMailError?: (error: unknown) => void
}

export interface Identity {
  /** Resolves a bearer credential (session `pss_` or API token `pal_`) to a principal; undefined when it is not valid now. */
  authenticate(bearer: string, source?: { ip: string | null }): Promise<Principal | undefined>
  login(
    ctx: RequestContext,
    input: { email: string; password: string; totp?: string | undefined },
  ): Promise<NewSession>
  logout(principal: Principal, ctx: RequestContext): Promise<void>
  me(principal: Principal): Promise<User>
  /** Needs the current password; revokes every other session of the user. */
  changePassword(
    principal: Principal,
    ctx: RequestContext,
    input: { currentPassword: string; newPassword: string },
  ): Promise<void>
  listSessions(principal: Principal): Promise<{ items: SessionInfo[]; nextCursor: null }>
  revokeSession(principal: Principal, ctx: RequestContext, sessionId: string): Promise<void>
  /** Starts TOTP enrolment: the secret is shown once and stays inactive until confirmed with a code. */
  enrolTotp(principal: Principal, ctx: RequestContext): Promise<{ secret: string; uri: string }>
  confirmTotp(principal: Principal, ctx: RequestContext, code: string): Promise<{ recoveryCodes: string[] }>
  disableTotp(
    principal: Principal,
    ctx: RequestContext,
    proof: { code?: string | undefined; password?: string | undefined },
  ): Promise<void>
  /**
   * New recovery codes with 2FA staying on: needs a current TOTP code (not a recovery code, which may be
   * what leaked); the old codes stop working.
   */
  regenerateRecoveryCodes(
    principal: Principal,
    ctx: RequestContext,
    code: string,
  ): Promise<{ recoveryCodes: string[] }>
  /** Password reset by a mailed, single-use link (public: the token is the credential). */
  readonly passwordResets: PasswordResets
  readonly tokens: ApiTokens
  readonly signatures: SignatureVerifier
  readonly members: Members
  readonly ipGroups: IpGroups
  readonly sshKeys: SshKeys
  readonly incidents: Incidents
}

export function createIdentity(deps: IdentityDeps): Identity {
  const { db, clock, audit, secrets } = deps
  const throttle = deps.throttle ?? createLoginThrottle()
  const tokens = createApiTokens({ db, clock, audit, secrets })
  const signatures = createSignatureVerifier({
    clock,
    nonces: deps.nonces ?? createMemoryNonceStore(clock),
    lookupKey: (id) => tokens.signingKey(id),
  })
  const deny = (): never => {
    throw new UnauthenticatedError(IAM_ERRORS.badCredentials, 'email or password is wrong', {
      publicCode: 'invalid_credentials',
    })
  }

  async function userRow(userId: string) {
    const row = await db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirst()
    if (!row)
      throw new UnauthenticatedError(IAM_ERRORS.unauthenticated, 'authentication required', {
        publicCode: 'unauthenticated',
      })
    return row
  }

  const failed = (ctx: RequestContext, action: string, userId: string, email: string, targetType = 'user') =>
    audit.recordAlone({
      actor: { type: 'user', id: userId, email },
      action,
      target: { type: targetType, id: userId },
      outcome: 'failure',
      context: ctx,
    })

  return {
    tokens,
    signatures,
    members: createMembers({
      db,
      dialect: deps.dialect,
      clock,
      audit,
      mailer: deps.mailer,
      publicUrl: deps.publicUrl,
    }),
    ipGroups: createIpGroups({ db, clock, audit }),
    passwordResets: createPasswordResets({
      db,
      clock,
      audit,
      mailer: deps.mailer,
      publicUrl: deps.publicUrl,
      ...(deps.resetThrottles
        ? { requestThrottle: deps.resetThrottles.request, confirmThrottle: deps.resetThrottles.confirm }
        : {}),
      ...(deps.onResetMailError ? { onMailError: deps.onResetMailError } : {}),
    }),
    sshKeys: createSshKeys({ db, clock, audit }),
    incidents: createIncidents({
      db,
      clock,
      audit,
      mailer: deps.mailer,
      ...(deps.restrictEnvironment ? { restrictEnvironment: deps.restrictEnvironment } : {}),
    }),

    async authenticate(bearer, source) {
      if (bearer.length > 200) return undefined
      if (bearer.startsWith(SESSION_PREFIX)) {
        const s = await findSession(db, clock, deps.sessions, bearer)
        return s ? { type: 'user', userId: s.userId, email: s.email, sessionId: s.id, mfa: s.mfa } : undefined
      }
      if (bearer.startsWith(API_TOKEN_PREFIX)) {
        const t = await tokens.find(bearer, source?.ip ?? null)
        return t
          ? {
              type: 'token',
              userId: t.userId,
              email: t.email,
              tokenId: t.id,
              scopes: t.scopes,
              mfa: t.mfa,
              signed: t.signed,
            }
          : undefined
      }
      return undefined
    },

    async login(ctx, input) {
      if (input.password.length > PASSWORD_MAX_LENGTH) deny()
      // Throttled before any check, by the address as typed: unknown and known accounts are limited alike.
      await throttle.take(input.email, ctx.ip)
      let email: string
      try {
        email = normaliseEmail(input.email)
      } catch {
        await verifyAgainstDummy(input.password)
        return deny()
      }
      const user = await db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst()
      // Unknown e-mail costs the same argon2 work as a wrong password: no user enumeration by timing.
      const ok = user
        ? await verifyPassword(user.password_hash, input.password)
        : await verifyAgainstDummy(input.password)
      if (!user || !ok) {
        await failed(ctx, 'session.create', user?.id ?? 'unknown', email)
        return deny()
      }
      let mfa = false
      if (user.totp_enabled === 1) {
        if (input.totp === undefined || input.totp === '') {
          throw new UnauthenticatedError(
            IAM_ERRORS.totpRequired,
            'a two-factor code (or a recovery code) is required',
            { publicCode: 'totp_required' },
          )
        }
        try {
          await useSecondFactor(db, secrets, clock, user, input.totp, true)
        } catch (error) {
          await failed(ctx, 'session.create', user.id, email)
          throw error
        }
        mfa = true
      }
      await throttle.succeeded(input.email, ctx.ip)
      const session = await createSession(db, clock, deps.sessions, user.id, ctx, mfa)
      await audit.recordAlone({
        actor: { type: 'user', id: user.id, email: user.email },
        action: 'session.create',
        target: { type: 'session', id: session.id },
        changes: diffChanges(null, { mfa }),
        context: ctx,
      })
      return session
    },

    async logout(principal, ctx) {
      if (principal.type !== 'user') {
        throw new InvalidError('PAL_IAM_NOT_A_SESSION', 'this credential is not a session', {
          publicCode: 'invalid_request',
        })
      }
      await db.transaction().execute(async (trx) => {
        await trx
          .updateTable('sessions')
          .set({ revoked_at: clock.now().toISOString() })
          .where('id', '=', principal.sessionId)
          .execute()
        await audit.record(trx, {
          actor: actorOf(principal),
          action: 'session.delete',
          target: { type: 'session', id: principal.sessionId },
          context: ctx,
        })
      })
    },

    async me(principal) {
      if (principal.type === 'platform')
        throw new NotFoundError('PAL_IAM_NO_USER', 'the platform has no user record')
      authorizeAccount(principal, 'account.read')
      const user = await findUserById(db, principal.userId)
      if (!user)
        throw new UnauthenticatedError(IAM_ERRORS.unauthenticated, 'authentication required', {
          publicCode: 'unauthenticated',
        })
      return user
    },

    async changePassword(principal, ctx, input) {
      const { userId } = authorizeAccount(principal, 'account.manage')
      const user = await userRow(userId)
      // A stolen session must not be able to guess the password faster than the sign-in form allows.
      await throttle.take(user.email, ctx.ip)
      if (
        input.currentPassword.length > PASSWORD_MAX_LENGTH ||
        !(await verifyPassword(user.password_hash, input.currentPassword))
      ) {
        await failed(ctx, 'user.password.update', user.id, user.email)
        throw new InvalidError(IAM_ERRORS.currentPasswordWrong, 'current password is wrong', {
          publicCode: 'invalid_credentials',
          details: [{ field: 'currentPassword', message: 'is wrong' }],
        })
      }
      await throttle.succeeded(user.email, ctx.ip)
      assertPasswordAcceptable(input.newPassword, user.email, 'newPassword')
      const hash = await hashPassword(input.newPassword)
      const now = clock.now().toISOString()
      const keep = principal.type === 'user' ? principal.sessionId : ''
      await db.transaction().execute(async (trx) => {
        await trx
          .updateTable('users')
          .set({ password_hash: hash, password_changed_at: now, updated_at: now })
          .where('id', '=', user.id)
          .execute()
        await trx
          .updateTable('sessions')
          .set({ revoked_at: now })
          .where('user_id', '=', user.id)
          .where('id', '!=', keep)
          .where('revoked_at', 'is', null)
          .execute()
        await audit.record(trx, {
          actor: actorOf(principal),
          action: 'user.password.update',
          target: { type: 'user', id: user.id },
          workspaceId: null,
          changes: diffChanges({ password: 'old' }, { password: 'new' }, ['password']),
          context: ctx,
        })
      })
    },

    async listSessions(principal) {
      const { userId } = authorizeAccount(principal, 'account.read')
      const current = principal.type === 'user' ? principal.sessionId : null
      return { items: await listSessions(db, clock, deps.sessions, userId, current), nextCursor: null }
    },

    async revokeSession(principal, ctx, sessionId) {
      const { userId } = authorizeAccount(principal, 'account.manage')
      const row =
        sessionId.length > 100
          ? undefined
          : await db
              .selectFrom('sessions')
              .select(['id', 'revoked_at'])
              .where('id', '=', sessionId)
              .where('user_id', '=', userId)
              .executeTakeFirst()
      if (!row || row.revoked_at !== null)
        throw new NotFoundError(IAM_ERRORS.sessionNotFound, 'session not found', { publicCode: 'not_found' })
      await db.transaction().execute(async (trx) => {
        await trx
          .updateTable('sessions')
          .set({ revoked_at: clock.now().toISOString() })
          .where('id', '=', row.id)
          .execute()
        await audit.record(trx, {
          actor: actorOf(principal),
          action: 'session.delete',
          target: { type: 'session', id: row.id },
          workspaceId: null,
          context: ctx,
        })
      })
    },

    async enrolTotp(principal, ctx) {
      const { userId } = authorizeAccount(principal, 'account.manage')
      const user = await userRow(userId)
      assertNotEnabled(user.totp_enabled)
      const fresh = newTotpSecret(secrets, user.id, user.email)
      await db.transaction().execute(async (trx) => {
        await trx
          .updateTable('users')
          .set({ totp_secret: fresh.sealed, totp_last_step: null, updated_at: clock.now().toISOString() })
          .where('id', '=', user.id)
          .execute()
        await audit.record(trx, {
          actor: actorOf(principal),
          action: 'user.totp.enrol',
          target: { type: 'user', id: user.id },
          workspaceId: null,
          context: ctx,
        })
      })
      return { secret: fresh.secret, uri: fresh.uri }
    },

    async confirmTotp(principal, ctx, code) {
      const { userId } = authorizeAccount(principal, 'account.manage')
      const user = await userRow(userId)
      assertNotEnabled(user.totp_enabled)
      if (user.totp_secret === null) {
        throw new InvalidError(IAM_ERRORS.totpNotEnrolled, 'start enrolment first (POST /v1/me/totp)', {
          publicCode: 'totp_not_enrolled',
        })
      }
      const codes = newRecoveryCodes()
      await db.transaction().execute(async (trx) => {
        await useSecondFactor(trx, secrets, clock, user, code, false)
        await trx
          .updateTable('users')
          .set({ totp_enabled: 1, updated_at: clock.now().toISOString() })
          .where('id', '=', user.id)
          .execute()
        await storeRecoveryCodes(trx, clock, user.id, codes)
        // The session that just proved the second factor counts as a 2FA session.
        if (principal.type === 'user')
          await trx.updateTable('sessions').set({ mfa: 1 }).where('id', '=', principal.sessionId).execute()
        await audit.record(trx, {
          actor: actorOf(principal),
          action: 'user.totp.enable',
          target: { type: 'user', id: user.id },
          workspaceId: null,
          changes: diffChanges({ totpEnabled: false }, { totpEnabled: true }),
          context: ctx,
        })
      })
      return { recoveryCodes: codes }
    },

    async regenerateRecoveryCodes(principal, ctx, code) {
      const { userId } = authorizeAccount(principal, 'account.manage')
      const user = await userRow(userId)
      if (user.totp_enabled !== 1)
        throw new InvalidError(
          IAM_ERRORS.totpNotEnrolled,
          'two-factor authentication is not on: `palisade 2fa enable` turns it on and prints recovery codes',
          { publicCode: 'totp_not_enrolled' },
        )
      // A stolen session must not be able to guess codes faster than the sign-in form allows.
      await throttle.take(user.email, ctx.ip)
      const trimmed = code.replace(/\s+/g, '')
      const codes = newRecoveryCodes()
      try {
        if (!/^\d{6}$/.test(trimmed))
          throw new InvalidError(
            IAM_ERRORS.totpInvalid,
            'a current code from the authenticator app is required (a recovery code does not renew the codes)',
            { publicCode: 'totp_invalid', details: [{ field: 'code', message: 'not a six-digit code' }] },
          )
        await db.transaction().execute(async (trx) => {
          await useSecondFactor(trx, secrets, clock, user, trimmed, false)
          await storeRecoveryCodes(trx, clock, user.id, codes)
          await audit.record(trx, {
            actor: actorOf(principal),
            action: 'user.totp.recovery-codes.regenerate',
            target: { type: 'user', id: user.id },
            workspaceId: null,
            changes: diffChanges(null, { recoveryCodes: codes.length }),
            context: ctx,
          })
        })
      } catch (error) {
        await failed(ctx, 'user.totp.recovery-codes.regenerate', user.id, user.email)
        throw error
      }
      await throttle.succeeded(user.email, ctx.ip)
      return { recoveryCodes: codes }
    },

    async disableTotp(principal, ctx, proof) {
      const { userId } = authorizeAccount(principal, 'account.manage')
      const user = await userRow(userId)
      if (user.totp_enabled !== 1 && user.totp_secret === null) {
        throw new InvalidError(IAM_ERRORS.totpNotEnrolled, 'two-factor authentication is not on', {
          publicCode: 'totp_not_enrolled',
        })
      }
      await throttle.take(user.email, ctx.ip)
      try {
        if (proof.code !== undefined) await useSecondFactor(db, secrets, clock, user, proof.code, true)
        else if (
          proof.password === undefined ||
          proof.password.length > PASSWORD_MAX_LENGTH ||
          !(await verifyPassword(user.password_hash, proof.password))
        ) {
          throw new InvalidError(
            IAM_ERRORS.currentPasswordWrong,
            'a current two-factor code or the password is required',
            {
              publicCode: 'invalid_credentials',
              details: [{ field: 'password', message: 'is wrong or missing' }],
            },
          )
        }
      } catch (error) {
        await failed(ctx, 'user.totp.disable', user.id, user.email)
        throw error
      }
      await throttle.succeeded(user.email, ctx.ip)
      await db.transaction().execute(async (trx) => {
        await trx
          .updateTable('users')
          .set({
            totp_enabled: 0,
            totp_secret: null,
            totp_last_step: null,
            updated_at: clock.now().toISOString(),
          })
          .where('id', '=', user.id)
          .execute()
        await trx.deleteFrom('recovery_codes').where('user_id', '=', user.id).execute()
        await trx.updateTable('sessions').set({ mfa: 0 }).where('user_id', '=', user.id).execute()
        await trx.updateTable('api_tokens').set({ mfa: 0 }).where('user_id', '=', user.id).execute()
        await audit.record(trx, {
          actor: actorOf(principal),
          action: 'user.totp.disable',
          target: { type: 'user', id: user.id },
          workspaceId: null,
          changes: diffChanges({ totpEnabled: user.totp_enabled === 1 }, { totpEnabled: false }),
          context: ctx,
        })
      })
    },
  }
}

export { revokeSession }
