import { diffChanges, type AuditLog } from '../audit/index.js'
import type { Database, Kysely, Transaction } from '../store/index.js'
import type { Clock } from '../shared/clock.js'
import type { RequestContext } from '../shared/context.js'
import { InvalidError, NotFoundError } from '../shared/errors.js'
import { sha256Hex } from '../shared/hash.js'
import { newId, newSecret } from '../shared/ids.js'
import type { SecretBox } from '../shared/secret-box.js'
import { randomBytes } from 'node:crypto'
import { authorizeAccount } from './authorize.js'
import type { ApiTokensTable } from './tables.js'
import { IAM_ERRORS } from './errors.js'
import { actorOf, SCOPES, type Principal, type Scope } from './principal.js'

export const API_TOKEN_PREFIX = 'pal_'
export const TOKEN_LIMITS = Object.freeze({
  minDays: 1,
  maxDays: 365,
  defaultDays: 90,
  maxOverlapHours: 168,
  defaultOverlapHours: 24,
  maxPerUser: 100,
})

/** An API token as listed (never with its secret). */
export interface ApiToken {
  readonly id: string
  readonly name: string
  readonly scopes: Scope[]
  readonly signed: boolean
  readonly createdAt: string
  readonly expiresAt: string
  readonly lastUsedAt: string | null
  readonly lastUsedIp: string | null
  readonly replacedBy: string | null
}

/** Answer to a create or rotate: the only time the token (and its signing key) are shown. */
export interface NewApiToken extends ApiToken {
  readonly token: string
  /** Hex HMAC-SHA256 key for RFC 9421 signatures (signed tokens only). */
  readonly signingKey?: string
}

export interface TokenInput {
  readonly name: string
  readonly scopes: readonly string[]
  readonly expiresInDays?: number | undefined
  readonly signed?: boolean | undefined
}

export interface TokenDeps {
  readonly db: Kysely<Database>
  readonly clock: Clock
  readonly audit: AuditLog
  readonly secrets: SecretBox
}

const sealContext = (id: string): string => `api_token:${id}`

function toToken(r: ApiTokensTable): ApiToken {
  return {
    id: r.id,
    name: r.name,
    scopes: JSON.parse(r.scopes) as Scope[],
    signed: r.signed === 1,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    lastUsedAt: r.last_used_at,
    lastUsedIp: r.last_used_ip,
    replacedBy: r.replaced_by,
  }
}

function checkScopes(scopes: readonly string[]): Scope[] {
  const unique = [...new Set(scopes)]
  if (unique.length === 0 || unique.some((s) => !(SCOPES as readonly string[]).includes(s))) {
    throw new InvalidError(
      IAM_ERRORS.tokenScopes,
      `scopes must be a non-empty list of ${SCOPES.join(', ')}`,
      { details: [{ field: 'scopes', message: `one or more of ${SCOPES.join(', ')}` }] },
    )
  }
  return SCOPES.filter((s) => unique.includes(s))
}

export interface ActiveToken {
  readonly id: string
  readonly userId: string
  readonly email: string
  readonly scopes: Scope[]
  readonly mfa: boolean
  readonly signed: boolean
}

const mfaOf = (p: Principal): boolean => p.type !== 'platform' && p.mfa

export function createApiTokens(deps: TokenDeps) {
  const { db, clock, audit, secrets } = deps
  const notFound = (): never => {
    throw new NotFoundError(IAM_ERRORS.tokenNotFound, 'token not found', { publicCode: 'not_found' })
  }

  async function insert(
    trx: Transaction<Database>,
    userId: string,
    mfa: boolean,
    name: string,
    scopes: Scope[],
    signed: boolean,
    expiresAt: Date,
  ): Promise<NewApiToken> {
    const id = newId('tok')
    const token = API_TOKEN_PREFIX + newSecret(32)
    const signingKey = signed ? randomBytes(32).toString('hex') : undefined
    const row: ApiTokensTable = {
      id,
      user_id: userId,
      name,
      token_hash: sha256Hex(token),
      scopes: JSON.stringify(scopes),
      signed: signed ? 1 : 0,
      signing_key: signingKey === undefined ? null : secrets.seal(signingKey, sealContext(id)),
      mfa: mfa ? 1 : 0,
      created_at: clock.now().toISOString(),
      expires_at: expiresAt.toISOString(),
      last_used_at: null,
      last_used_ip: null,
      revoked_at: null,
      replaced_by: null,
    }
    await trx.insertInto('api_tokens').values(row).execute()
    return signingKey === undefined ? { ...toToken(row), token } : { ...toToken(row), token, signingKey }
  }

  async function ownRow(userId: string, id: string): Promise<ApiTokensTable> {
    if (id.length > 100) return notFound()
    const row = await db
      .selectFrom('api_tokens')
      .selectAll()
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst()
    if (!row || row.expires_at <= clock.now().toISOString()) return notFound()
    return row
  }

  return {
    async list(principal: Principal): Promise<{ items: ApiToken[]; nextCursor: null }> {
      const { userId } = authorizeAccount(principal, 'account.read')
      const rows = await db
        .selectFrom('api_tokens')
        .selectAll()
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', clock.now().toISOString())
        .orderBy('created_at', 'desc')
        .execute()
      return { items: rows.map(toToken), nextCursor: null }
    },

    async create(principal: Principal, ctx: RequestContext, input: TokenInput): Promise<NewApiToken> {
      const { userId } = authorizeAccount(principal, 'account.manage')
      const scopes = checkScopes(input.scopes)
      const days = input.expiresInDays ?? TOKEN_LIMITS.defaultDays
      if (!Number.isInteger(days) || days < TOKEN_LIMITS.minDays || days > TOKEN_LIMITS.maxDays) {
        throw new InvalidError(
          'PAL_IAM_TOKEN_EXPIRY_INVALID',
          `expiresInDays must be ${TOKEN_LIMITS.minDays}–${TOKEN_LIMITS.maxDays}`,
          { details: [{ field: 'expiresInDays', message: 'out of range' }] },
        )
      }
      const name = input.name.trim()
      if (name.length < 1 || name.length > 100)
        throw new InvalidError('PAL_IAM_TOKEN_NAME_INVALID', 'name must be 1–100 characters', {
          details: [{ field: 'name', message: '1–100 characters' }],
        })
      const count = await db
        .selectFrom('api_tokens')
        .select((eb) => eb.fn.countAll<string | number>().as('n'))
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .executeTakeFirstOrThrow()
      if (Number(count.n) >= TOKEN_LIMITS.maxPerUser) {
        throw new InvalidError(
          'PAL_IAM_TOKEN_LIMIT',
          `at most ${TOKEN_LIMITS.maxPerUser} tokens per user; revoke some first`,
          { publicCode: 'limit_reached' },
        )
      }
      const expiresAt = new Date(clock.now().getTime() + days * 86_400_000)
      return db.transaction().execute(async (trx) => {
        const created = await insert(
          trx,
          userId,
          mfaOf(principal),
          name,
          scopes,
          input.signed === true,
          expiresAt,
        )
        await audit.record(trx, {
          actor: actorOf(principal),
          action: 'token.create',
          target: { type: 'token', id: created.id },
          workspaceId: null,
          changes: diffChanges(null, { name, scopes, signed: created.signed, expiresAt: created.expiresAt }),
          context: ctx,
        })
        return created
      })
    },

    /**
     * Issues a successor with the same name, scopes and lifetime; the old token keeps working for
     * `overlapHours` (0 = stops now), so deployments can switch without downtime.
     */
    async rotate(
      principal: Principal,
      ctx: RequestContext,
      id: string,
      overlapHours: number = TOKEN_LIMITS.defaultOverlapHours,
    ): Promise<NewApiToken> {
      const { userId } = authorizeAccount(principal, 'account.manage')
      const old = await ownRow(userId, id)
      if (old.replaced_by !== null) {
        throw new InvalidError(
          'PAL_IAM_TOKEN_ROTATED',
          'this token was already rotated; rotate its successor',
          { publicCode: 'already_rotated' },
        )
      }
      const now = clock.now()
      const lifetime = new Date(old.expires_at).getTime() - new Date(old.created_at).getTime()
      const overlapEnd = new Date(
        Math.min(new Date(old.expires_at).getTime(), now.getTime() + overlapHours * 3600_000),
      )
      return db.transaction().execute(async (trx) => {
        const next = await insert(
          trx,
          userId,
          mfaOf(principal),
          old.name,
          JSON.parse(old.scopes) as Scope[],
          old.signed === 1,
          new Date(now.getTime() + lifetime),
        )
        const oldPatch =
          overlapHours === 0
            ? { revoked_at: now.toISOString(), replaced_by: next.id }
            : { expires_at: overlapEnd.toISOString(), replaced_by: next.id }
        await trx.updateTable('api_tokens').set(oldPatch).where('id', '=', old.id).execute()
        await audit.record(trx, {
          actor: actorOf(principal),
          action: 'token.rotate',
          target: { type: 'token', id: old.id },
          workspaceId: null,
          changes: diffChanges(
            { expiresAt: old.expires_at, replacedBy: null },
            { expiresAt: overlapEnd.toISOString(), replacedBy: next.id },
          ),
          context: ctx,
        })
        return next
      })
    },

    async revoke(principal: Principal, ctx: RequestContext, id: string): Promise<void> {
      const { userId } = authorizeAccount(principal, 'account.manage')
      const row = await ownRow(userId, id)
      await db.transaction().execute(async (trx) => {
        await trx
          .updateTable('api_tokens')
          .set({ revoked_at: clock.now().toISOString() })
          .where('id', '=', row.id)
          .execute()
        await audit.record(trx, {
          actor: actorOf(principal),
          action: 'token.delete',
          target: { type: 'token', id: row.id },
          workspaceId: null,
          context: ctx,
        })
      })
    },

    /** Resolves a `pal_` bearer to a live token, recording its last use (at most once a minute: no write per request). */
    async find(bearer: string, ip: string | null): Promise<ActiveToken | undefined> {
      const row = await db
        .selectFrom('api_tokens')
        .innerJoin('users', 'users.id', 'api_tokens.user_id')
        .select([
          'api_tokens.id',
          'api_tokens.user_id',
          'api_tokens.scopes',
          'api_tokens.mfa',
          'api_tokens.signed',
          'api_tokens.expires_at',
          'api_tokens.revoked_at',
          'api_tokens.last_used_at',
          'api_tokens.last_used_ip',
          'users.email',
        ])
        .where('api_tokens.token_hash', '=', sha256Hex(bearer))
        .executeTakeFirst()
      const now = clock.now()
      if (!row || row.revoked_at !== null || row.expires_at <= now.toISOString()) return undefined
      if (
        row.last_used_at === null ||
        now.getTime() - new Date(row.last_used_at).getTime() > 60_000 ||
        row.last_used_ip !== ip
      ) {
        await db
          .updateTable('api_tokens')
          .set({ last_used_at: now.toISOString(), last_used_ip: ip })
          .where('id', '=', row.id)
          .execute()
      }
      return {
        id: row.id,
        userId: row.user_id,
        email: row.email,
        scopes: JSON.parse(row.scopes) as Scope[],
        mfa: row.mfa === 1,
        signed: row.signed === 1,
      }
    },

    /** The HMAC key of a live signed token, for signature verification. */
    async signingKey(keyId: string): Promise<{ key: Buffer; token: ActiveToken } | undefined> {
      if (keyId.length > 100) return undefined
      const row = await db
        .selectFrom('api_tokens')
        .innerJoin('users', 'users.id', 'api_tokens.user_id')
        .select([
          'api_tokens.id',
          'api_tokens.user_id',
          'api_tokens.scopes',
          'api_tokens.mfa',
          'api_tokens.signing_key',
          'api_tokens.expires_at',
          'api_tokens.revoked_at',
          'users.email',
        ])
        .where('api_tokens.id', '=', keyId)
        .executeTakeFirst()
      if (
        !row ||
        row.revoked_at !== null ||
        row.signing_key === null ||
        row.expires_at <= clock.now().toISOString()
      )
        return undefined
      const key = Buffer.from(secrets.open(row.signing_key, sealContext(row.id)), 'hex')
      return {
        key,
        token: {
          id: row.id,
          userId: row.user_id,
          email: row.email,
          scopes: JSON.parse(row.scopes) as Scope[],
          mfa: row.mfa === 1,
          signed: true,
        },
      }
    },
  }
}

export type ApiTokens = ReturnType<typeof createApiTokens>
