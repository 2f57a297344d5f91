import { verifyChain, type AuditEvent, type AuditLog } from '../audit/index.js'
import type { Database, Kysely } from '../store/index.js'
import type { AuditChainStatus } from './platform-metrics.js'

const PAGE = 5000

/**
 * Verifies every audit chain (each workspace's and the platform's) against its signed checkpoints, as
 * `palisade audit verify` does, and records the result in `status`. Returns the workspaces that failed.
 */
export async function verifyAuditChains(
  db: Kysely<Database>,
  audit: AuditLog,
  status: AuditChainStatus,
  now: () => number,
): Promise<string[]> {
  const chains = ['', ...(await db.selectFrom('workspaces').select('id').execute()).map((r) => r.id)]
  const failing: string[] = []
  for (const chain of chains) {
    const events: AuditEvent[] = []
    let after = 0
    for (;;) {
      const page = await audit.list({ chain, afterSeq: after, limit: PAGE })
      events.push(...page)
      if (page.length < PAGE) break
      after = (page[page.length - 1] as AuditEvent).seq
    }
    const checkpoints = await audit.checkpoints(chain === '' ? null : chain)
    const result = verifyChain(events, checkpoints, audit.publicKeyPem)
    if (!result.ok) failing.push(chain === '' ? 'platform' : chain)
  }
  status.ok = failing.length === 0
  status.verifiedAt = now()
  status.failing = failing
  return failing
}
