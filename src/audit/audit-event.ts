import { canonicalJson } from './canonical-json.js'
import { sha256Hex } from '../shared/hash.js'

export type ActorType = 'user' | 'token' | 'platform'
export type Outcome = 'success' | 'failure' | 'denied'

export interface AuditActor {
  readonly type: ActorType
  readonly id: string
  readonly email?: string
}

/** Before/after of each changed field; secret values are replaced by `MASK` before they get here. */
export type AuditChanges = Readonly<Record<string, { readonly before?: unknown; readonly after?: unknown }>>

/** An event as stored, exported and verified (DESIGN.md §5). */
export interface AuditEvent {
  readonly id: string
  readonly seq: number
  readonly at: string
  readonly actor: AuditActor
  readonly action: string
  readonly target: { readonly type: string; readonly id: string }
  readonly workspace: string | null
  readonly project: string | null
  readonly environment: string | null
  readonly ip: string | null
  readonly userAgent: string | null
  readonly requestId: string | null
  readonly outcome: Outcome
  readonly changes: AuditChanges
  readonly prevHash: string
  readonly hash: string
}

export const GENESIS_HASH = '0'.repeat(64)
export const MASK = '••••••'

/**
 * hash = SHA-256( canonicalJson(event without `hash` and `prevHash`) ‖ prevHash ), hex.
 * Changing any field, the order or the predecessor changes the hash.
 */
export function computeEventHash(event: Omit<AuditEvent, 'hash'>): string {
  return sha256Hex(canonicalEventBody(event) + event.prevHash)
}

const s = (v: string | null): string => (v === null ? 'null' : JSON.stringify(v))

/**
 * `canonicalJson` of the event without `hash`/`prevHash`, written out field by field: the top-level
 * keys are fixed, so sorting them once here (in code-unit order) makes verification of a million
 * events several times faster. A unit test pins it to the generic `canonicalJson`.
 */
export function canonicalEventBody(e: Omit<AuditEvent, 'hash'>): string {
  const a = e.actor
  const actor = `{${a.email === undefined ? '' : `"email":${JSON.stringify(a.email)},`}"id":${JSON.stringify(a.id)},"type":${JSON.stringify(a.type)}}`
  return (
    `{"action":${JSON.stringify(e.action)},"actor":${actor},"at":${JSON.stringify(e.at)},"changes":${canonicalJson(e.changes)}` +
    `,"environment":${s(e.environment)},"id":${JSON.stringify(e.id)},"ip":${s(e.ip)},"outcome":${JSON.stringify(e.outcome)}` +
    `,"project":${s(e.project)},"requestId":${s(e.requestId)},"seq":${e.seq}` +
    `,"target":{"id":${JSON.stringify(e.target.id)},"type":${JSON.stringify(e.target.type)}},"userAgent":${s(e.userAgent)},"workspace":${s(e.workspace)}}`
  )
}
