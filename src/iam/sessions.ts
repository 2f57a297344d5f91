import type { Database, Kysely } from '../store/index.js'
import type { Clock } from '../shared/clock.js'
import { newId, newSecret } from '../shared/ids.js'
import { sha256Hex } from '../shared/hash.js'

export const SESSION_PREFIX = 'pss_'

export interface SessionPolicy {
  readonly idleMinutes: number
  readonly absoluteHours: number
}

export interface NewSession {
  readonly id: string
  readonly token: string
  readonly expiresAt: string
}

/** Session tokens: 256 random bits, only their SHA-256 is stored (a database leak yields no usable token). */
export async function createSession(
  db: Kysely<Database>,
  clock: Clock,
  policy: SessionPolicy,
  userId: string,
  meta: { ip: string | null; userAgent: string | null },
  mfa = false,
): Promise<NewSession> {
  const now = clock.now()
  const token = SESSION_PREFIX + newSecret(32)
  const id = newId('ses')
  const expiresAt = new Date(now.getTime() + policy.absoluteHours * 3600_000).toISOString()
  await db
    .insertInto('sessions')
    .values({
      id,
      user_id: userId,
      token_hash: sha256Hex(token),
      created_at: now.toISOString(),
      last_seen_at: now.toISOString(),
      expires_at: expiresAt,
      ip: meta.ip,
      user_agent: meta.userAgent?.slice(0, 512) ?? null,
      revoked_at: null,
      mfa: mfa ? 1 : 0,
    })
    .execute()
  return { id, token, expiresAt }
}

export interface ActiveSession {
  readonly id: string
  readonly userId: string
  readonly email: string
  readonly mfa: boolean
}

/** Finds a live session by token, sliding its idle timer. Expired or revoked → undefined. */
export async function findSession(
  db: Kysely<Database>,
  clock: Clock,
  policy: SessionPolicy,
  token: string,
): Promise<ActiveSession | undefined> {
  const row = await db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select([
      'sessions.id',
      'sessions.user_id',
      'sessions.last_seen_at',
      'sessions.expires_at',
      'sessions.revoked_at',
      'users.email',
      'sessions.mfa',
    ])
    .where('sessions.token_hash', '=', sha256Hex(token))
    .executeTakeFirst()
  if (!row || row.revoked_at !== null) return undefined
  const now = clock.now()
  if (now.toISOString() >= row.expires_at) return undefined
  const idleDeadline = new Date(row.last_seen_at).getTime() + policy.idleMinutes * 60_000
  if (now.getTime() >= idleDeadline) return undefined
  // Refresh at most once a minute: keeps the hot path free of a write per request.
  if (now.getTime() - new Date(row.last_seen_at).getTime() > 60_000) {
    await db
      .updateTable('sessions')
      .set({ last_seen_at: now.toISOString() })
      .where('id', '=', row.id)
      .execute()
  }
  return { id: row.id, userId: row.user_id, email: row.email, mfa: row.mfa === 1 }
}

export async function revokeSession(db: Kysely<Database>, clock: Clock, sessionId: string): Promise<void> {
  await db
    .updateTable('sessions')
    .set({ revoked_at: clock.now().toISOString() })
    .where('id', '=', sessionId)
    .where('revoked_at', 'is', null)
    .execute()
}

export interface SessionInfo {
  readonly id: string
  readonly createdAt: string
  readonly lastSeenAt: string
  readonly expiresAt: string
  readonly ip: string | null
  readonly userAgent: string | null
  readonly mfa: boolean
  readonly current: boolean
}

/** The user's live sessions, newest first (expired and revoked ones are not shown). */
export async function listSessions(
  db: Kysely<Database>,
  clock: Clock,
  policy: SessionPolicy,
  userId: string,
  currentId: string | null,
): Promise<SessionInfo[]> {
  const now = clock.now()
  const idleCut = new Date(now.getTime() - policy.idleMinutes * 60_000).toISOString()
  const rows = await db
    .selectFrom('sessions')
    .select(['id', 'created_at', 'last_seen_at', 'expires_at', 'ip', 'user_agent', 'mfa'])
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now.toISOString())
    .where('last_seen_at', '>', idleCut)
    .orderBy('created_at', 'desc')
    .limit(200)
    .execute()
  return rows.map((r) => ({
    id: r.id,
    createdAt: r.created_at,
    lastSeenAt: r.last_seen_at,
    expiresAt: r.expires_at,
    ip: r.ip,
    userAgent: r.user_agent,
    mfa: r.mfa === 1,
    current: r.id === currentId,
  }))
}
