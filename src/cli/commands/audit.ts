import { readFileSync, writeFileSync } from 'node:fs'
import { Command } from 'commander'
// The verifier is the published algorithm itself; the CLI runs it locally so that a user need not
// trust the server that wrote the log (STYLE: cli → api contract; this is the one documented exception).
import { verifyChain, type AuditEvent, type Checkpoint } from '../../audit/index.js'
import { createClient, type ApiClient } from '../client.js'
import { print, stdio, wantsJson } from '../output.js'
import { resolveWorkspace, UsageError } from '../resolve.js'

interface Page<T> {
  items: T[]
  nextCursor: string | null
}

interface ListOpts {
  workspace?: string
  action?: string
  actor?: string
  target?: string
  env?: string
  since?: string
  until?: string
  limit?: string
}

async function fetchEvents(
  client: ApiClient,
  ws: string,
  filter: URLSearchParams,
  max = Infinity,
): Promise<AuditEvent[]> {
  const out: AuditEvent[] = []
  let cursor: string | null = null
  do {
    const q = new URLSearchParams(filter)
    q.set('limit', String(Math.min(1000, max - out.length)))
    if (cursor) q.set('cursor', cursor)
    const page: Page<AuditEvent> = await client.request<Page<AuditEvent>>(
      'GET',
      `/v1/workspaces/${ws}/audit-events?${q.toString()}`,
    )
    out.push(...page.items)
    cursor = page.nextCursor
  } while (cursor && out.length < max)
  return out
}

function filterOf(o: ListOpts): URLSearchParams {
  const q = new URLSearchParams()
  if (o.action) q.set('action', o.action)
  if (o.actor) q.set('actor', o.actor)
  if (o.target) q.set('target', o.target)
  if (o.env) q.set('environment', o.env)
  if (o.since) q.set('since', new Date(o.since).toISOString())
  if (o.until) q.set('until', new Date(o.until).toISOString())
  return q
}

/** Reads an export: one event per line, and `{"checkpoint": …}` lines. */
export function parseExport(text: string): { events: AuditEvent[]; checkpoints: Checkpoint[] } {
  const events: AuditEvent[] = []
  const checkpoints: Checkpoint[] = []
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch {
      throw new UsageError(`line ${i + 1} is not JSON`)
    }
    if (value && typeof value === 'object' && 'checkpoint' in value)
      checkpoints.push((value as { checkpoint: Checkpoint }).checkpoint)
    else events.push(value as AuditEvent)
  })
  return { events, checkpoints }
}

export function auditCommand(): Command {
  const cmd = new Command('audit').description('the tamper-evident audit log (owners and admins)')
  const filters = (c: Command): Command =>
    c
      .option('--workspace <ws>', 'workspace name or id')
      .option('--action <action>', 'action, or a prefix ending in * (project.*)')
      .option('--actor <id>', 'actor id')
      .option('--target <id>', 'target id')
      .option('--env <id>', 'environment id')
      .option('--since <time>', 'ISO time')
      .option('--until <time>', 'ISO time')

  filters(cmd.command('list'))
    .option('--limit <n>', 'at most n events', '100')
    .action(async (o: ListOpts, c: Command) => {
      const client = createClient()
      const ws = await resolveWorkspace(client, o.workspace)
      const events = await fetchEvents(client, ws, filterOf(o), Number(o.limit ?? 100))
      print(c, { items: events, nextCursor: null }, [
        ['seq', (e: AuditEvent) => e.seq],
        ['at', (e: AuditEvent) => e.at],
        ['actor', (e: AuditEvent) => e.actor.email ?? `${e.actor.type}:${e.actor.id}`],
        ['action', (e: AuditEvent) => e.action],
        ['target', (e: AuditEvent) => `${e.target.type}:${e.target.id}`],
        ['outcome', (e: AuditEvent) => e.outcome],
      ])
    })

  filters(cmd.command('export'))
    .option('--format <format>', 'jsonl (the only format)', 'jsonl')
    .option('--output <file>', 'write to a file instead of standard output')
    .action(async (o: ListOpts & { format: string; output?: string }) => {
      if (o.format !== 'jsonl') throw new UsageError('--format must be jsonl')
      const client = createClient()
      const ws = await resolveWorkspace(client, o.workspace)
      const events = await fetchEvents(client, ws, filterOf(o))
      const checkpoints = await client.request<Page<Checkpoint>>(
        'GET',
        `/v1/workspaces/${ws}/audit-checkpoints`,
      )
      const lines = [
        ...checkpoints.items.map((cp) => JSON.stringify({ checkpoint: cp })),
        ...events.map((e) => JSON.stringify(e)),
      ]
      const text = lines.join('\n') + (lines.length ? '\n' : '')
      if (o.output) writeFileSync(o.output, text, { mode: 0o600 })
      else process.stdout.write(text)
    })

  cmd
    .command('verify')
    .description('check the hash chain and signed checkpoints; exits 1 and names the first bad event')
    .option('--workspace <ws>', 'workspace name or id')
    .option('--file <export.jsonl>', 'verify an export offline instead of the server')
    .option('--public-key <pem-file>', 'checkpoint public key (default: fetched from the API)')
    .action(async (o: { workspace?: string; file?: string; publicKey?: string }, c: Command) => {
      let events: AuditEvent[]
      let checkpoints: Checkpoint[]
      let publicKey: string | null = o.publicKey ? readFileSync(o.publicKey, 'utf8') : null
      if (o.file) {
        ;({ events, checkpoints } = parseExport(readFileSync(o.file, 'utf8')))
        if (!publicKey) {
          publicKey = await createClient()
            .request<{ publicKey: string }>('GET', '/v1/audit/public-key')
            .then((r) => r.publicKey)
            .catch(() => null)
        }
      } else {
        const client = createClient()
        const ws = await resolveWorkspace(client, o.workspace)
        events = await fetchEvents(client, ws, new URLSearchParams())
        checkpoints = (
          await client.request<Page<Checkpoint>>('GET', `/v1/workspaces/${ws}/audit-checkpoints`)
        ).items
        publicKey ??= (await client.request<{ publicKey: string }>('GET', '/v1/audit/public-key')).publicKey
      }
      const result = verifyChain(events, checkpoints, publicKey)
      if (wantsJson(c))
        stdio.out(JSON.stringify({ ...result, signaturesChecked: publicKey !== null }, null, 2))
      else if (result.ok)
        stdio.out(
          `OK: ${result.count} events verified (head seq ${result.headSeq}), ${checkpoints.length} checkpoint(s)${publicKey ? ' with valid signatures' : ' (signatures not checked: no public key)'}.`,
        )
      else
        stdio.err(
          `FAILED at event seq ${result.firstBad?.seq}${result.firstBad?.id ? ` (${result.firstBad.id})` : ''}: ${result.firstBad?.reason}`,
        )
      if (!result.ok) process.exitCode = 1
    })
  return cmd
}
