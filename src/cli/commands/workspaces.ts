import { Command } from 'commander'
import { createClient } from '../client.js'
import { done, print } from '../output.js'
import { listAll } from '../resolve.js'

interface Workspace {
  id: string
  name: string
  displayName: string
  requireMfa: boolean
  createdAt: string
}

const columns: ReadonlyArray<[string, (w: Workspace) => string | boolean]> = [
  ['id', (w) => w.id],
  ['name', (w) => w.name],
  ['display name', (w) => w.displayName],
  ['2fa required', (w) => w.requireMfa],
]

export function workspacesCommand(): Command {
  const cmd = new Command('workspaces').alias('ws').description('workspaces you belong to')
  cmd
    .command('list')
    .description('list workspaces')
    .action(async (_o, c: Command) => {
      print(
        c,
        { items: await listAll<Workspace>(createClient(), '/v1/workspaces'), nextCursor: null },
        columns,
      )
    })
  cmd
    .command('create <name>')
    .description('create a workspace (you become its owner)')
    .option('--display-name <text>', 'human name')
    .action(async (name: string, o: { displayName?: string }, c: Command) => {
      const w = await createClient().request<Workspace>('POST', '/v1/workspaces', {
        name,
        ...(o.displayName ? { displayName: o.displayName } : {}),
      })
      print(c, w, columns)
    })
  cmd
    .command('show <workspace>')
    .description('show one workspace')
    .action(async (ref: string, _o, c: Command) => {
      print(
        c,
        await createClient().request<Workspace>('GET', `/v1/workspaces/${encodeURIComponent(ref)}`),
        columns,
      )
    })
  cmd
    .command('update <workspace>')
    .description('rename or change settings')
    .option('--name <name>', 'new name')
    .option('--display-name <text>', 'human name')
    .option('--require-mfa <yes|no>', 'require two-factor authentication for members')
    .action(
      async (ref: string, o: { name?: string; displayName?: string; requireMfa?: string }, c: Command) => {
        const body: Record<string, unknown> = {}
        if (o.name) body['name'] = o.name
        if (o.displayName) body['displayName'] = o.displayName
        if (o.requireMfa) body['requireMfa'] = ['yes', 'true', 'on', '1'].includes(o.requireMfa)
        print(
          c,
          await createClient().request<Workspace>('PATCH', `/v1/workspaces/${encodeURIComponent(ref)}`, body),
          columns,
        )
      },
    )
  cmd
    .command('delete <workspace>')
    .description('delete a workspace (refused while it has projects, unless --force)')
    .option('--force', 'also delete its projects and environments')
    .action(async (ref: string, o: { force?: boolean }, c: Command) => {
      await createClient().request(
        'DELETE',
        `/v1/workspaces/${encodeURIComponent(ref)}${o.force ? '?force=true' : ''}`,
      )
      done(c, `Deleted workspace ${ref}.`)
    })
  return cmd
}
