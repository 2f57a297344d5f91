import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  createAuditLog,
  createCheckpointSigner,
  generateSigningKeyPem,
  verifyChain,
  type AuditLog,
} from '../src/audit/index.js'
import { fixedClock } from '../src/shared/clock.js'
import { migrateToLatest, openStore, type Store } from '../src/store/index.js'
import { createTestStore, STORE_KINDS } from './support/stores.js'
import type { TestContext } from 'node:test'

const CTX = { requestId: 'req_test', ip: '127.0.0.1', userAgent: 'test' }
const ACTOR = { type: 'user' as const, id: 'usr_test', email: 'a@example.com' }

async function openAudit(
  t: TestContext,
  kind: (typeof STORE_KINDS)[number],
): Promise<{ store: Store; audit: AuditLog; clock: ReturnType<typeof fixedClock> }> {
  const ts = await createTestStore(kind)
  const store = openStore(ts.databaseUrl)
  await migrateToLatest(store.db)
  t.after(async () => {
    await store.close()
    await ts.drop()
  })
  const clock = fixedClock('2026-01-01T00:00:00Z')
  const audit = createAuditLog({
    db: store.db,
    dialect: store.dialect,
    clock,
    signer: createCheckpointSigner(generateSigningKeyPem()),
  })
  return { store, audit, clock }
}

async function writeEvents(audit: AuditLog, n: number, workspaceId = 'wsp_a'): Promise<void> {
  for (let i = 0; i < n; i++) {
    await audit.recordAlone({
      actor: ACTOR,
      action: 'project.update',
      target: { type: 'project', id: `prj_${i}` },
      workspaceId,
      changes: { n: { before: i, after: i + 1 } },
      context: CTX,
    })
  }
}

async function verifyStored(audit: AuditLog, chain = 'wsp_a') {
  const events = await audit.list({ chain, limit: 1_000_000 })
  return verifyChain(events, await audit.checkpoints(chain), audit.publicKeyPem)
}

for (const kind of STORE_KINDS) {
  describe(`audit chain on ${kind}`, () => {
    test('an untouched chain verifies', async (t) => {
      const { audit } = await openAudit(t, kind)
      await writeEvents(audit, 10)
      await audit.checkpointAll()
      const r = await verifyStored(audit)
      assert.deepEqual([r.ok, r.count, r.headSeq], [true, 10, 10])
    })

    test('altering one field of one row is caught and named (tampering)', async (t) => {
      const { store, audit } = await openAudit(t, kind)
      await writeEvents(audit, 10)
      await store.db
        .updateTable('audit_events')
        .set({ action: 'project.read' })
        .where('seq', '=', 4)
        .execute()
      const r = await verifyStored(audit)
      assert.equal(r.ok, false)
      assert.equal(r.firstBad?.seq, 4)
      assert.match(r.firstBad?.reason ?? '', /altered/)
    })

    test('deleting a row is caught at the gap (tampering)', async (t) => {
      const { store, audit } = await openAudit(t, kind)
      await writeEvents(audit, 10)
      await store.db.deleteFrom('audit_events').where('seq', '=', 6).execute()
      const r = await verifyStored(audit)
      assert.equal(r.ok, false)
      assert.equal(r.firstBad?.seq, 7)
      assert.match(r.firstBad?.reason ?? '', /6 is missing/)
    })

    test('swapping two rows is caught (reordering)', async (t) => {
      const { store, audit } = await openAudit(t, kind)
      await writeEvents(audit, 10)
      // Swap the content of seq 3 and 5, keeping their seq numbers: the order of history changes.
      const rows = await store.db
        .selectFrom('audit_events')
        .selectAll()
        .where('seq', 'in', [3, 5])
        .orderBy('seq')
        .execute()
      const [a, b] = rows as [(typeof rows)[0], (typeof rows)[0]]
      await store.db.updateTable('audit_events').set({ seq: -1 }).where('id', '=', a.id).execute()
      await store.db.updateTable('audit_events').set({ seq: 3 }).where('id', '=', b.id).execute()
      await store.db.updateTable('audit_events').set({ seq: 5 }).where('id', '=', a.id).execute()
      const r = await verifyStored(audit)
      assert.equal(r.ok, false)
      assert.equal(r.firstBad?.seq, 3)
    })

    test('inserting a forged row is caught', async (t) => {
      const { store, audit } = await openAudit(t, kind)
      await writeEvents(audit, 5)
      const last = await store.db
        .selectFrom('audit_events')
        .selectAll()
        .where('seq', '=', 5)
        .executeTakeFirstOrThrow()
      await store.db
        .insertInto('audit_events')
        .values({ ...last, id: 'evt_forged', seq: 6, prev_hash: last.hash, hash: 'f'.repeat(64) })
        .execute()
      const r = await verifyStored(audit)
      assert.equal(r.ok, false)
      assert.equal(r.firstBad?.seq, 6)
    })

    test('truncating the tail after a signed checkpoint is caught', async (t) => {
      const { store, audit } = await openAudit(t, kind)
      await writeEvents(audit, 10)
      await audit.checkpointAll()
      await store.db.deleteFrom('audit_events').where('seq', '>', 7).execute()
      await store.db.updateTable('audit_heads').set({ seq: 7 }).execute()
      const r = await verifyStored(audit)
      assert.equal(r.ok, false)
      assert.equal(r.firstBad?.seq, 8)
      assert.match(r.firstBad?.reason ?? '', /signed checkpoint/)
    })

    test('a forged checkpoint signature is caught', async (t) => {
      const { store, audit } = await openAudit(t, kind)
      await writeEvents(audit, 3)
      await audit.checkpointAll()
      await store.db.updateTable('audit_checkpoints').set({ seq: 2 }).execute()
      const r = await verifyStored(audit)
      assert.equal(r.ok, false)
      assert.match(r.firstBad?.reason ?? '', /bad signature/)
    })

    test('pruning past the retention keeps the rest verifiable from the checkpoint', async (t) => {
      const { audit, clock } = await openAudit(t, kind)
      await writeEvents(audit, 5)
      clock.advance(100 * 86_400_000)
      await writeEvents(audit, 5)
      const removed = await audit.prune(new Date(clock.now().getTime() - 90 * 86_400_000))
      assert.equal(removed, 5)
      const events = await audit.list({ chain: 'wsp_a', limit: 100 })
      assert.equal(events[0]?.seq, 6)
      const r = await verifyStored(audit)
      assert.deepEqual([r.ok, r.count, r.headSeq], [true, 5, 10])
    })

    test('8 concurrent writers × 1,000 events leave no gap, no duplicate and a valid chain', async (t) => {
      const { audit } = await openAudit(t, kind)
      const writer = async (w: number): Promise<void> => {
        for (let i = 0; i < 1000; i++) {
          await audit.recordAlone({
            actor: ACTOR,
            action: 'project.update',
            target: { type: 'project', id: `prj_${w}_${i}` },
            workspaceId: 'wsp_a',
            context: CTX,
          })
        }
      }
      await Promise.all(Array.from({ length: 8 }, (_, w) => writer(w)))
      const events = await audit.list({ chain: 'wsp_a', limit: 100_000 })
      assert.equal(events.length, 8000)
      assert.deepEqual(
        events.map((e) => e.seq),
        Array.from({ length: 8000 }, (_, i) => i + 1),
      )
      const r = verifyChain(events, [], null)
      assert.equal(r.ok, true)
    })
  })
}
