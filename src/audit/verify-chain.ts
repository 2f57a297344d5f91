import { createPublicKey, verify as verifySignature } from 'node:crypto'
import { GENESIS_HASH, computeEventHash, type AuditEvent } from './audit-event.js'

/** A signed statement "the chain `chain` had head `hash` at `seq`". */
export interface Checkpoint {
  readonly chain: string
  readonly seq: number
  readonly hash: string
  readonly at: string
  /** base64 Ed25519 signature over `checkpointMessage(...)`. */
  readonly signature: string
  /** Events up to `seq` were pruned after this checkpoint. */
  readonly pruned: boolean
}

export function checkpointMessage(c: Pick<Checkpoint, 'chain' | 'seq' | 'hash' | 'at'>): string {
  return `palisade-audit-checkpoint:v1:${c.chain}:${c.seq}:${c.hash}:${c.at}`
}

export interface VerifyResult {
  readonly ok: boolean
  readonly count: number
  readonly headSeq: number
  /** The first event that does not fit, with the reason. */
  readonly firstBad?: { readonly seq: number; readonly id: string | null; readonly reason: string }
}

/**
 * Verifies a chain given in seq order. The chain starts at the genesis hash, or, when older events
 * were pruned, at a signed checkpoint that says where it starts. Signed checkpoints also pin the
 * events they cover, so deleting the tail after a checkpoint is caught.
 */
export function verifyChain(
  events: readonly AuditEvent[],
  checkpoints: readonly Checkpoint[],
  publicKeyPem: string | null,
): VerifyResult {
  for (const c of checkpoints) {
    if (publicKeyPem !== null && !isCheckpointSigned(c, publicKeyPem)) {
      return {
        ok: false,
        count: 0,
        headSeq: 0,
        firstBad: { seq: c.seq, id: null, reason: `checkpoint at seq ${c.seq} has a bad signature` },
      }
    }
  }
  const prunedTo = checkpoints.filter((c) => c.pruned).sort((a, b) => b.seq - a.seq)[0]
  let expectedSeq = prunedTo ? prunedTo.seq + 1 : 1
  let prevHash = prunedTo ? prunedTo.hash : GENESIS_HASH
  // Only the hashes that checkpoints pin are kept: a million-entry map would cost more than the hashing.
  const pinned = new Set(checkpoints.map((c) => c.seq))
  const bySeq = new Map<number, string>()
  let count = 0
  for (const e of events) {
    if (e.seq !== expectedSeq) {
      const reason =
        e.seq > expectedSeq
          ? `event ${expectedSeq} is missing before this one`
          : `event is out of order (expected seq ${expectedSeq})`
      return { ok: false, count, headSeq: expectedSeq - 1, firstBad: { seq: e.seq, id: e.id, reason } }
    }
    if (e.prevHash !== prevHash) {
      return {
        ok: false,
        count,
        headSeq: expectedSeq - 1,
        firstBad: { seq: e.seq, id: e.id, reason: 'prevHash does not match the previous event' },
      }
    }
    // computeEventHash reads the body fields by name, so the event is passed as it is (no copy without `hash`).
    const hash = e.hash
    if (computeEventHash(e) !== hash) {
      return {
        ok: false,
        count,
        headSeq: expectedSeq - 1,
        firstBad: { seq: e.seq, id: e.id, reason: 'hash does not match the event content (altered)' },
      }
    }
    if (pinned.has(e.seq)) bySeq.set(e.seq, hash)
    count++
    prevHash = hash
    expectedSeq++
  }
  const headSeq = expectedSeq - 1
  for (const c of checkpoints) {
    if (c.pruned) continue
    if (c.seq > headSeq && (!prunedTo || c.seq > prunedTo.seq)) {
      return {
        ok: false,
        count,
        headSeq,
        firstBad: {
          seq: headSeq + 1,
          id: null,
          reason: `events ${headSeq + 1}..${c.seq} are missing (a signed checkpoint covers seq ${c.seq})`,
        },
      }
    }
    const seen = bySeq.get(c.seq)
    if (seen !== undefined && seen !== c.hash) {
      return {
        ok: false,
        count,
        headSeq,
        firstBad: { seq: c.seq, id: null, reason: `event ${c.seq} differs from the signed checkpoint` },
      }
    }
  }
  return { ok: true, count, headSeq }
}

export function isCheckpointSigned(c: Checkpoint, publicKeyPem: string): boolean {
  try {
    return verifySignature(
      null,
      Buffer.from(checkpointMessage(c)),
      createPublicKey(publicKeyPem),
      Buffer.from(c.signature, 'base64'),
    )
  } catch {
    return false
  }
}
