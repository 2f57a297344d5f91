import { Command } from 'commander'
import { ApiError, createClient } from '../client.js'
import { done, print, stdio, wantsJson } from '../output.js'
import { invitationColumns, type PendingInvitation } from './invitations.js'
import { resolveWorkspace } from '../resolve.js'

interface Member {
  userId: string
  email: string
  role: string
  totpEnabled: boolean
  createdAt: string
}

const columns: ReadonlyArray<[string, (m: Member) => string | boolean]> = [
  ['user id', (m) => m.userId],
  ['email', (m) => m.email],
  ['role', (m) => m.role],
  ['2fa', (m) => m.totpEnabled],
]

export function membersCommand(): Command {
  const cmd = new Command('members')
    .description('members of a workspace (owner, admin, developer, viewer)')
    .option('--workspace <name>', 'workspace name or id')
  const ws = async (c: Command): Promise<{ client: ReturnType<typeof createClient>; path: string }> => {
    const client = createClient()
    return {
      client,
      path: `/v1/workspaces/${await resolveWorkspace(client, c.optsWithGlobals<{ workspace?: string }>().workspace)}/members`,
    }
  }
  cmd
    .command('list')
    .description('list members, then pending invitations (when you may invite)')
    .action(async (_o, c: Command) => {
      const { client, path } = await ws(c)
      const members = await client.request<{ items: Member[] }>('GET', path)
      // Pending invitations are shown to those who may invite (owners, admins); others see members only.
      const invitations = await client
        .request<{ items: PendingInvitation[] }>('GET', path.replace(/\/members$/, '/invitations'))
        .catch((e: unknown) => {
          if (e instanceof ApiError && (e.status === 403 || e.status === 404)) return undefined
          throw e
        })
      if (wantsJson(c)) return print(c, { ...members, invitations: invitations?.items ?? null })
      print(c, members, columns)
      if (invitations && invitations.items.length > 0) {
        stdio.out('')
        stdio.out('Pending invitations:')
        print(c, invitations, invitationColumns)
      }
    })
  cmd
    .command('invite <email>')
    .description('send an invitation e-mail (valid 7 days, once)')
    .option('--role <role>', 'owner, admin, developer or viewer', 'developer')
    .action(async (email: string, o: { role: string }, c: Command) => {
      const { client, path } = await ws(c)
      const inv = await client.request<{ id: string; expiresAt: string }>('POST', path, {
        email,
        role: o.role,
      })
      done(c, `Invited ${email} as ${o.role} (until ${inv.expiresAt}).`, inv)
    })
  cmd
    .command('set-role <userId> <role>')
    .description("change a member's role")
    .action(async (userId: string, role: string, _o, c: Command) => {
      const { client, path } = await ws(c)
      print(
        c,
        await client.request<Member>('PATCH', `${path}/${encodeURIComponent(userId)}`, { role }),
        columns,
      )
    })
  cmd
    .command('remove <userId>')
    .description('remove a member')
    .action(async (userId: string, _o, c: Command) => {
      const { client, path } = await ws(c)
      await client.request('DELETE', `${path}/${encodeURIComponent(userId)}`)
      done(c, `Removed ${userId}.`)
    })
  return cmd
}
