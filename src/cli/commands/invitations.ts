import { Command } from 'commander'
import { cliEnvironment } from '../../config/index.js'
import { createClient, DEFAULT_API_URL, readCredentials } from '../client.js'
import { done, print } from '../output.js'
import { ask, askNewPassword } from '../prompt.js'
import { resolveWorkspace, UsageError } from '../resolve.js'

export interface PendingInvitation {
  id: string
  email: string
  role: string
  createdAt: string
  expiresAt: string
}

export const invitationColumns: ReadonlyArray<[string, (i: PendingInvitation) => string]> = [
  ['invitation', (i) => i.id],
  ['email', (i) => i.email],
  ['role', (i) => i.role],
  ['expires', (i) => i.expiresAt],
]

const TOKEN = /^inv_[A-Za-z0-9_-]{10,190}$/

/**
 * The token of an invitation given as the e-mailed link or as the bare token. A link names the API it came
 * from; that API is used unless PALISADE_API_URL says otherwise.
 */
export function parseInvitation(ref: string): { token: string; apiUrl?: string } {
  if (TOKEN.test(ref)) return { token: ref }
  let url: URL
  try {
    url = new URL(ref)
  } catch {
    throw new UsageError(
      'pass the invitation link from the e-mail (http…/invitations/inv_…) or its inv_… token',
    )
  }
  const m = /^(.*)\/invitations\/([^/]+)\/?$/.exec(url.pathname)
  const token = m?.[2] ? decodeURIComponent(m[2]) : ''
  if (!TOKEN.test(token))
    throw new UsageError('this link holds no invitation token (it should end in /invitations/inv_…)')
  return { token, apiUrl: `${url.origin}${m?.[1] ?? ''}` }
}

export function invitationsCommand(): Command {
  const cmd = new Command('invitations').description(
    'invitations to a workspace: pending ones, and accepting one',
  )
  cmd
    .command('list')
    .description('pending invitations of a workspace (owners and admins)')
    .option('--workspace <name>', 'workspace name or id')
    .action(async (o: { workspace?: string }, c: Command) => {
      const client = createClient()
      const ws = await resolveWorkspace(client, o.workspace)
      print(
        c,
        await client.request<{ items: PendingInvitation[] }>('GET', `/v1/workspaces/${ws}/invitations`),
        invitationColumns,
      )
    })
  cmd
    .command('accept <link>')
    .description(
      'accept an invitation (the link from the e-mail, or its token); asks for a password when you have no account yet',
    )
    .option(
      '--password-stdin',
      'read the new account password from standard input (a second line, when given, must repeat it)',
    )
    .option('--existing-account', 'you already have an account: do not ask for a password')
    .action(async (link: string, o: { passwordStdin?: boolean; existingAccount?: boolean }, c: Command) => {
      const { token, apiUrl } = parseInvitation(link)
      const base = cliEnvironment()
      const env = base.apiUrl || !apiUrl ? base : { ...base, apiUrl }
      const client = createClient(env, { anonymous: true })
      let password: string | undefined
      if (o.passwordStdin) password = await askNewPassword(true)
      else if (!o.existingAccount) {
        // On a terminal, or one answer a line on a piped stdin.
        const first = await ask(
          'Password for your new account (12+ characters; empty if you already have one): ',
          true,
        )
        if (first) {
          if ((await ask('Again: ', true)) !== first)
            throw new UsageError('the two passwords differ; nothing was changed')
          password = first
        }
      }
      const path = `/v1/invitations/${encodeURIComponent(token)}/accept`
      const r = await client.request<{ workspaceId: string; email: string; role: string }>(
        'POST',
        path,
        password === undefined ? undefined : { password },
      )
      const stored = readCredentials(env)
      const api = client.apiUrl === DEFAULT_API_URL ? '' : ` --api-url ${client.apiUrl}`
      done(
        c,
        `Joined workspace ${r.workspaceId} as ${r.role}.${stored?.email === r.email ? '' : ` Sign in with: palisade login --email ${r.email}${api}`}`,
        r,
      )
    })
  return cmd
}
