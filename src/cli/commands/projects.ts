import { Command } from 'commander'
import { createClient } from '../client.js'
import { done, print } from '../output.js'
import { listAll, resolveProject, resolveWorkspace } from '../resolve.js'

interface Project {
  id: string
  name: string
  repository: string | null
  defaultRuntime: string
  description: string
}

const columns: ReadonlyArray<[string, (p: Project) => string | null]> = [
  ['id', (p) => p.id],
  ['name', (p) => p.name],
  ['runtime', (p) => p.defaultRuntime],
  ['repository', (p) => p.repository],
]

export function projectsCommand(): Command {
  const cmd = new Command('projects').description('projects of a workspace')
  cmd
    .command('list')
    .option('--workspace <ws>', 'workspace name or id')
    .action(async (o: { workspace?: string }, c: Command) => {
      const client = createClient()
      const ws = await resolveWorkspace(client, o.workspace)
      print(
        c,
        { items: await listAll<Project>(client, `/v1/workspaces/${ws}/projects`), nextCursor: null },
        columns,
      )
    })
  cmd
    .command('create <name>')
    .option('--workspace <ws>', 'workspace name or id')
    .option('--repository <url>', 'git repository (https://, file:// or absolute path)')
    .option('--runtime <runtime>', 'default runtime (node@20, php@8.2, static, custom:<image>)')
    .option('--description <text>', 'description')
    .action(
      async (
        name: string,
        o: { workspace?: string; repository?: string; runtime?: string; description?: string },
        c: Command,
      ) => {
        const client = createClient()
        const ws = await resolveWorkspace(client, o.workspace)
        const body: Record<string, unknown> = { name }
        if (o.repository) body['repository'] = o.repository
        if (o.runtime) body['defaultRuntime'] = o.runtime
        if (o.description) body['description'] = o.description
        print(c, await client.request<Project>('POST', `/v1/workspaces/${ws}/projects`, body), columns)
      },
    )
  cmd
    .command('show <project>')
    .option('--workspace <ws>', 'workspace name or id')
    .action(async (ref: string, o: { workspace?: string }, c: Command) => {
      const client = createClient()
      print(
        c,
        await client.request<Project>(
          'GET',
          `/v1/projects/${await resolveProject(client, ref, o.workspace)}`,
        ),
        columns,
      )
    })
  cmd
    .command('update <project>')
    .option('--workspace <ws>', 'workspace name or id')
    .option('--name <name>', 'new name')
    .option('--repository <url>', 'git repository')
    .option('--runtime <runtime>', 'default runtime')
    .option('--description <text>', 'description')
    .action(
      async (
        ref: string,
        o: { workspace?: string; name?: string; repository?: string; runtime?: string; description?: string },
        c: Command,
      ) => {
        const client = createClient()
        const body: Record<string, unknown> = {}
        if (o.name) body['name'] = o.name
        if (o.repository) body['repository'] = o.repository
        if (o.runtime) body['defaultRuntime'] = o.runtime
        if (o.description !== undefined) body['description'] = o.description
        print(
          c,
          await client.request<Project>(
            'PATCH',
            `/v1/projects/${await resolveProject(client, ref, o.workspace)}`,
            body,
          ),
          columns,
        )
      },
    )
  cmd
    .command('delete <project>')
    .option('--workspace <ws>', 'workspace name or id')
    .option('--force', 'also delete its environments')
    .action(async (ref: string, o: { workspace?: string; force?: boolean }, c: Command) => {
      const client = createClient()
      await client.request(
        'DELETE',
        `/v1/projects/${await resolveProject(client, ref, o.workspace)}${o.force ? '?force=true' : ''}`,
      )
      done(c, `Deleted project ${ref}.`)
    })
  return cmd
}
