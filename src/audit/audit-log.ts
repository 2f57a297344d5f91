import type { Database, Dialect, Kysely, Transaction } from '../store/index.js'
import type { Clock } from '../shared/clock.js'
import { newId } from '../shared/ids.js'
import type { AuditEvent } from './audit-event.js'
import { appendEvent, chainOf, listEvents, type AppendInput, type ListFilter } from './audit-repo.js'
import type { CheckpointSigner } from './checkpoint-signer.js'
import type { Checkpoint } from './verify-chain.js'

export type AuditRecord = Omit<AppendInput, 'at'>

export interface AuditLog {
  /** Appends inside the caller's transaction: the change and its event commit together or not at all. */
  record(trx: Transaction<Database>, input: AuditRecord): Promise<AuditEvent>
  /** Appends in a transaction of its own: for denied and failed attempts, whose change was rolled back. */
  recordAlone(input: AuditRecord): Promise<AuditEvent>
  list(filter: ListFilter): Promise<AuditEvent[]>
  checkpoints(workspaceId: string | null): Promise<Checkpoint[]>
  /** Signs the head of every chain that moved since its last checkpoint. */
  checkpointAll(): Promise<number>
  /** Deletes events older than the cut, after signing a checkpoint at the last pruned event. */
  prune(olderThan: Date): Promise<number>
  readonly publicKeyPem: string
}

export function createAuditLog(deps: {
  db: Kysely<Database>
  dialect: Dialect
  clock: Clock
  signer: CheckpointSigner
}): AuditLog {
  const { db, dialect, clock, signer } = deps
  const record = (trx: Transaction<Database>, input: AuditRecord): Promise<AuditEvent> =>
    appendEvent(trx, dialect, { ...input, at: clock.now() })

  async function insertCheckpoint(
    trx: Transaction<Database>,
    chain: string,
    seq: number,
    hash: string,
    pruned: boolean,
  ): Promise<void> {
    const at = clock.now().toISOString()
    const signature = signer.sign({ chain, seq, hash, at })
    await trx
      .insertInto('audit_checkpoints')
      .values({ id: newId('ckp'), chain, seq, hash, at, signature, pruned: pruned ? 1 : 0 })
      .execute()
  }

  return {
    publicKeyPem: signer.publicKeyPem,
    record,
    recordAlone: (input) => db.transaction().execute((trx) => record(trx, input)),
    list: (filter) => listEvents(db, filter),
    async checkpoints(workspaceId) {
      const rows = await db
        .selectFrom('audit_checkpoints')
        .selectAll()
        .where('chain', '=', chainOf(workspaceId))
        .orderBy('seq', 'asc')
        .execute()
      return rows.map((r) => ({
        chain: r.chain,
        seq: r.seq,
        hash: r.hash,
        at: r.at,
        signature: r.signature,
        pruned: r.pruned === 1,
      }))
    },
    async checkpointAll() {
      const heads = await db.selectFrom('audit_heads').selectAll().where('seq', '>', 0).execute()
      let written = 0
      for (const head of heads) {
        const last = await db
          .selectFrom('audit_checkpoints')
          .select((eb) => eb.fn.max('seq').as('seq'))
          .where('chain', '=', head.chain)
          .executeTakeFirst()
        if (last?.seq !== null && last?.seq !== undefined && Number(last.seq) >= head.seq) continue
        await db.transaction().execute((trx) => insertCheckpoint(trx, head.chain, head.seq, head.hash, false))
        written++
      }
      return written
    },
    async prune(olderThan) {
      const cut = olderThan.toISOString()
      const chains = await db.selectFrom('audit_heads').select('chain').execute()
      let removed = 0
      for (const { chain } of chains) {
        removed += await db.transaction().execute(async (trx) => {
          const last = await trx
            .selectFrom('audit_events')
            .select(['seq', 'hash'])
            .where('chain', '=', chain)
            .where('at', '<', cut)
            .orderBy('seq', 'desc')
            .limit(1)
            .executeTakeFirst()
          if (!last) return 0
          // The checkpoint is written before the cut so the remaining chain stays verifiable.
          await insertCheckpoint(trx, chain, last.seq, last.hash, true)
          const res = await trx
            .deleteFrom('audit_events')
            .where('chain', '=', chain)
            .where('seq', '<=', last.seq)
            .executeTakeFirst()
          return Number(res.numDeletedRows)
        })
      }
      return removed
    },
  }
}
