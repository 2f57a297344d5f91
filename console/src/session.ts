import { createContext } from 'preact'
import { useContext } from 'preact/hooks'
import type { paths } from './api/schema'

export type User = paths['/v1/me']['get']['responses'][200]['content']['application/json']

/** What the console knows of the signed-in person; the session itself is the HttpOnly cookie. */
export interface Session {
  readonly user: User
  /** From the sign-in answer (kept in sessionStorage: times only, never a credential). */
  readonly expiresAt: string | null
  readonly idleTimeoutMinutes: number | null
  signOut(): Promise<void>
}

export const SessionContext = createContext<Session | null>(null)

export function useSession(): Session {
  const s = useContext(SessionContext)
  if (!s) throw new Error('no session')
  return s
}

const KEY = 'palisade.session-times'

export function rememberTimes(expiresAt: string, idleTimeoutMinutes: number | undefined): void {
  sessionStorage.setItem(KEY, JSON.stringify({ expiresAt, idleTimeoutMinutes: idleTimeoutMinutes ?? null }))
}

export function recallTimes(): { expiresAt: string | null; idleTimeoutMinutes: number | null } {
  try {
    const v = JSON.parse(sessionStorage.getItem(KEY) ?? 'null') as {
      expiresAt?: string
      idleTimeoutMinutes?: number | null
    } | null
    return { expiresAt: v?.expiresAt ?? null, idleTimeoutMinutes: v?.idleTimeoutMinutes ?? null }
  } catch {
    return { expiresAt: null, idleTimeoutMinutes: null }
  }
}

export function forgetTimes(): void {
  sessionStorage.removeItem(KEY)
}

export type Role = 'owner' | 'admin' | 'developer' | 'viewer'
const RANK: Record<Role, number> = { viewer: 0, developer: 1, admin: 2, owner: 3 }
/** Whether `role` is at least `min` (what is not allowed is not offered; the server still decides). */
export function atLeast(role: Role | undefined, min: Role): boolean {
  return role !== undefined && RANK[role] >= RANK[min]
}

/**
 * Whether `role` may do what needs `min` on an environment: developers' rights stop at production, where the
 * bar is admin (src/iam/roles.ts). Only decides what is offered; the server decides what happens.
 */
export function mayOn(role: Role | undefined, min: Role, criticality: string): boolean {
  const bar = criticality === 'production' && min === 'developer' ? 'admin' : min
  return atLeast(role, bar)
}
