/**
 * bench/audit: append rate (events/s) on SQLite and PostgreSQL, and `verify` time for 1,000,000 events.
 * Run: node --import tsx bench/audit/run.ts [--events 5000] [--verify 1000000]
 */
import {
  createAuditLog,
  createCheckpointSigner,
  generateSigningKeyPem,
  computeEventHash,
  GENESIS_HASH,
  verifyChain,
  type AuditEvent,
} from '../../src/audit/index.js'
import { systemClock } from '../../src/shared/clock.js'
import { migrateToLatest, openStore } from '../../src/store/index.js'
import { createTestStore } from '../../test/support/stores.js'

const args = process.argv.slice(2)
const arg = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? Number(args[i + 1]) : fallback
}
const EVENTS = arg('events', 5000)
const VERIFY = arg('verify', 1_000_000)
const CTX = { requestId: 'req_bench', ip: '127.0.0.1', userAgent: 'bench' }

async function appendRate(kind: 'sqlite' | 'postgres', writers: number): Promise<number> {
  const ts = await createTestStore(kind)
  const store = openStore(ts.databaseUrl)
  await migrateToLatest(store.db)
  const audit = createAuditLog({
    db: store.db,
    dialect: store.dialect,
    clock: systemClock,
    signer: createCheckpointSigner(generateSigningKeyPem()),
  })
  const per = Math.ceil(EVENTS / writers)
  const started = performance.now()
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      for (let i = 0; i < per; i++) {
        await audit.recordAlone({
          actor: { type: 'user', id: 'usr_bench' },
          action: 'project.update',
          target: { type: 'project', id: `prj_${w}_${i}` },
          workspaceId: 'wsp_bench',
          changes: { description: { before: 'a', after: 'b' } },
          context: CTX,
        })
      }
    }),
  )
  const seconds = (performance.now() - started) / 1000
  await store.close()
  await ts.drop()
  return Math.round((per * writers) / seconds)
}

function verifyTime(n: number): { seconds: number; ok: boolean } {
  const events: AuditEvent[] = []
  let prev = GENESIS_HASH
  const at = new Date('2026-01-01T00:00:00Z').toISOString()
  for (let seq = 1; seq <= n; seq++) {
    const body: Omit<AuditEvent, 'hash'> = {
      id: `evt_${seq}`,
      seq,
      at,
      actor: { type: 'user', id: 'usr_bench', email: 'b@example.com' },
      action: 'project.update',
      target: { type: 'project', id: 'prj_bench' },
      workspace: 'wsp_bench',
      project: 'prj_bench',
      environment: null,
      ip: '127.0.0.1',
      userAgent: 'bench',
      requestId: `req_${seq}`,
      outcome: 'success',
      changes: { description: { before: 'a', after: 'b' } },
      prevHash: prev,
    }
    const hash = computeEventHash(body)
    events.push({ ...body, hash })
    prev = hash
  }
  const started = performance.now()
  const r = verifyChain(events, [], null)
  return { seconds: (performance.now() - started) / 1000, ok: r.ok }
}

const rows: string[] = []
for (const kind of ['sqlite', 'postgres'] as const) {
  rows.push(`| append, ${kind}, 1 writer | ${await appendRate(kind, 1)} events/s |`)
  rows.push(`| append, ${kind}, 8 writers | ${await appendRate(kind, 8)} events/s |`)
}
const v = verifyTime(VERIFY)
rows.push(
  `| verify ${VERIFY.toLocaleString('en')} events | ${v.seconds.toFixed(2)} s (${v.ok ? 'valid' : 'INVALID'}) |`,
)
console.log(`\n${EVENTS} events per append run, each in its own transaction\n`)
console.log('| measurement | result |\n|---|---:|')
console.log(rows.join('\n'))
