/**
 * Append-only, hash-chained audit log (DESIGN.md §5). Every change calls `record` inside its own
 * transaction; denied and failed attempts call `recordAlone`.
 * @example await audit.record(trx, { actor, action: 'project.create', target: { type: 'project', id }, workspaceId, context })
 */
export { createAuditLog, type AuditLog, type AuditRecord } from './audit-log.js'
export { createCheckpointSigner, generateSigningKeyPem, type CheckpointSigner } from './checkpoint-signer.js'
export {
  verifyChain,
  isCheckpointSigned,
  checkpointMessage,
  type Checkpoint,
  type VerifyResult,
} from './verify-chain.js'
export {
  computeEventHash,
  GENESIS_HASH,
  MASK,
  type AuditEvent,
  type AuditActor,
  type AuditChanges,
  type Outcome,
  type ActorType,
} from './audit-event.js'
export { canonicalJson } from './canonical-json.js'
export { diffChanges } from './changes.js'
export type { ListFilter } from './audit-repo.js'
