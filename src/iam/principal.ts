/** `metrics` only reads `GET /metrics` (a scraper's token: no workspace data). */
export type Scope = 'read' | 'write' | 'deploy' | 'admin' | 'metrics'
export const SCOPES: readonly Scope[] = ['read', 'write', 'deploy', 'admin', 'metrics']

/** Who is acting. Built by authentication from a verified credential, never from client-sent fields. */
export type Principal =
  | {
      readonly type: 'user'
      readonly userId: string
      readonly email: string
      readonly sessionId: string
      readonly mfa: boolean
    }
  | {
      readonly type: 'token'
      readonly userId: string
      readonly email: string
      readonly tokenId: string
      readonly scopes: readonly Scope[]
      readonly mfa: boolean
      /** Requests made with this token must carry an RFC 9421 signature by its key. */
      readonly signed: boolean
    }
  | { readonly type: 'platform' }

export const PLATFORM: Principal = Object.freeze({ type: 'platform' })

/** The actor as the audit log records it. */
export interface ActorRecord {
  readonly type: 'user' | 'token' | 'platform'
  readonly id: string
  readonly email?: string
}

export function actorOf(p: Principal): ActorRecord {
  if (p.type === 'platform') return { type: 'platform', id: 'platform' }
  if (p.type === 'token') return { type: 'token', id: p.tokenId, email: p.email }
  return { type: 'user', id: p.userId, email: p.email }
}

export function userIdOf(p: Principal): string | null {
  return p.type === 'platform' ? null : p.userId
}
