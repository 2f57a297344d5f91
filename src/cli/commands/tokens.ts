import { Command } from 'commander'
import { createClient } from '../client.js'
import { done, print, stdio } from '../output.js'

interface Token {
  id: string
  name: string
  scopes: string[]
  signed: boolean
  expiresAt: string
  lastUsedAt: string | null
  lastUsedIp: string | null
  replacedBy: string | null
  token?: string
  signingKey?: string
}

const columns: ReadonlyArray<[string, (t: Token) => string | boolean | null]> = [
  ['id', (t) => t.id],
  ['name', (t) => t.name],
  ['scopes', (t) => t.scopes.join(',')],
  ['signed', (t) => t.signed],
  ['expires', (t) => t.expiresAt],
  ['last used', (t) => (t.lastUsedAt ? `${t.lastUsedAt} from ${t.lastUsedIp ?? '?'}` : null)],
]

/** Prints a new token's secrets once, to stdout only (they are not stored anywhere by the CLI). */
function showSecret(cmd: Command, t: Token): void {
  print(cmd, t, columns)
  if (cmd.optsWithGlobals<{ json?: boolean }>().json) return
  stdio.out('')
  stdio.out(`Token (shown once; use it as PALISADE_TOKEN): ${t.token ?? ''}`)
  if (t.signingKey) stdio.out(`Signing key (shown once, hex; keyid ${t.id}): ${t.signingKey}`)
}

export function tokensCommand(): Command {
  const cmd = new Command('tokens').description('your API tokens (pal_…)')
  cmd
    .command('list')
    .description('list live tokens')
    .action(async (_o, c: Command) => {
      print(c, await createClient().request<{ items: Token[] }>('GET', '/v1/me/tokens'), columns)
    })
  cmd
    .command('create <name>')
    .description('create a token (shown once)')
    .option(
      '--scopes <list>',
      'comma-separated: read, write, deploy, admin, metrics (metrics: scrape GET /metrics only)',
      'read',
    )
    .option('--expires-in-days <n>', 'lifetime in days (1–365)', '90')
    .option('--signed', 'requests must be signed (RFC 9421); also returns a signing key')
    .action(
      async (name: string, o: { scopes: string; expiresInDays: string; signed?: boolean }, c: Command) => {
        const body = {
          name,
          scopes: o.scopes
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
          expiresInDays: Number(o.expiresInDays),
          ...(o.signed ? { signed: true } : {}),
        }
        showSecret(c, await createClient().request<Token>('POST', '/v1/me/tokens', body))
      },
    )
  cmd
    .command('rotate <id>')
    .description('issue a successor; the old token keeps working for the overlap')
    .option('--overlap-hours <n>', 'hours both work (0–168)', '24')
    .action(async (id: string, o: { overlapHours: string }, c: Command) => {
      showSecret(
        c,
        await createClient().request<Token>('POST', `/v1/me/tokens/${encodeURIComponent(id)}/rotate`, {
          overlapHours: Number(o.overlapHours),
        }),
      )
    })
  cmd
    .command('revoke <id>')
    .description('revoke a token now')
    .action(async (id: string, _o, c: Command) => {
      await createClient().request('DELETE', `/v1/me/tokens/${encodeURIComponent(id)}`)
      done(c, `Revoked token ${id}.`)
    })
  return cmd
}
