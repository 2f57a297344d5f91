import { MASK, type AuditChanges } from './audit-event.js'

/**
 * Before/after of the fields that differ. Fields named in `secret` are recorded as changed but
 * their values are masked, so the log proves a secret changed without holding it.
 */
export function diffChanges(
  before: Readonly<Record<string, unknown>> | null,
  after: Readonly<Record<string, unknown>> | null,
  secret: readonly string[] = [],
): AuditChanges {
  const out: Record<string, { before?: unknown; after?: unknown }> = {}
  const keys = new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})])
  for (const k of keys) {
    const b = before?.[k]
    const a = after?.[k]
    if (JSON.stringify(b) === JSON.stringify(a)) continue
    const mask = secret.includes(k)
    const entry: { before?: unknown; after?: unknown } = {}
    if (b !== undefined) entry.before = mask ? MASK : b
    if (a !== undefined) entry.after = mask ? MASK : a
    out[k] = entry
  }
  return out
}
