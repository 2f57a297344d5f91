import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { verifyWebhook } from '../../src/monitor/index.js'

export interface Received {
  readonly headers: IncomingHttpHeaders
  readonly body: string
  readonly verdict: ReturnType<typeof verifyWebhook>
}

export interface Notification {
  readonly rule: string
  readonly event: string
  readonly subject: string
  readonly environmentId: string | null
  readonly summary: string
  readonly workspace: { readonly id: string }
}

/**
 * A webhook receiver that checks each delivery as a receiver should (signature, timestamp window against its own
 * clock `nowS`, replay of a delivery id seen before) and answers 401 to what fails.
 */
export async function startAlertReceiver(
  t: { after(fn: () => Promise<void>): void },
  nowS: () => number = () => Math.floor(Date.now() / 1000),
) {
  const received: Received[] = []
  const seen = new Map<string, number>()
  let secret = ''
  const server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (c: string) => (body += c))
    req.on('end', () => {
      const verdict = verifyWebhook(secret, req.headers, body, nowS(), seen)
      received.push({ headers: req.headers, body, verdict })
      res.writeHead(verdict.ok ? 204 : 401).end()
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.after(() => new Promise<void>((r) => server.close(() => r())))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    seen,
    setSecret: (s: string) => (secret = s),
    /** Every verified notification received. */
    notifications(): Notification[] {
      return received.filter((r) => r.verdict.ok).map((r) => JSON.parse(r.body) as Notification)
    },
    /** Sends a received delivery again, byte for byte, as an attacker who recorded it would. */
    async replay(r: Received): Promise<number> {
      const headers: Record<string, string> = { 'content-type': 'application/json' }
      for (const [k, v] of Object.entries(r.headers))
        if (typeof v === 'string' && k.startsWith('palisade-')) headers[k] = v
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, {
        method: 'POST',
        headers,
        body: r.body,
      })
      return res.status
    },
  }
}

export type AlertReceiver = Awaited<ReturnType<typeof startAlertReceiver>>

/** The alert e-mails in the outbox sent to `to` (quoted-printable soft breaks undone). */
export function alertMails(dataDir: string, to: string): string[] {
  const outbox = path.join(dataDir, 'outbox')
  if (!existsSync(outbox)) return []
  return readdirSync(outbox)
    .map((f) =>
      readFileSync(path.join(outbox, f), 'utf8')
        .replace(/=\r?\n/g, '')
        .replace(/=3D/g, '='),
    )
    .filter((m) => m.includes(`To: ${to}`))
}

/**
 * Asserts that `event` of `rule` (about `subject` when given) reached both channels: a verified webhook whose
 * replay the receiver refuses, and an e-mail in the outbox.
 */
export async function assertNotified(
  receiver: AlertReceiver,
  dataDir: string,
  to: string,
  rule: string,
  event: 'firing' | 'resolved',
  subject?: string,
): Promise<Notification> {
  const match = (n: Notification) =>
    n.rule === rule && n.event === event && (!subject || n.subject === subject)
  const i = receiver.received.findIndex((r) => r.verdict.ok && match(JSON.parse(r.body) as Notification))
  assert.ok(
    i >= 0,
    `a signed webhook for ${rule} ${event}: ${receiver.received.map((r) => r.body).join(' | ')}`,
  )
  const got = receiver.received[i]!
  assert.equal(await receiver.replay(got), 401, `the receiver refuses a replay of the ${rule} webhook`)
  assert.deepEqual(receiver.received.at(-1)?.verdict, { ok: false, reason: 'replay' })
  const word = event === 'resolved' ? '[RESOLVED]' : '[FIRING]'
  assert.ok(
    alertMails(dataDir, to).some((m) => m.includes(`Rule: ${rule}`) && m.includes(word)),
    `an e-mail for ${rule} ${event}`,
  )
  return JSON.parse(got.body) as Notification
}
