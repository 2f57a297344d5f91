import { Command } from 'commander'
import { createClient } from '../client.js'
import { done, print } from '../output.js'
import { resolveEnvironment, UsageError } from '../resolve.js'

interface Variable {
  name: string
  value: string
  secret: boolean
  updatedAt: string
}

const columns: ReadonlyArray<[string, (v: Variable) => string | boolean]> = [
  ['name', (v) => v.name],
  ['value', (v) => v.value],
  ['secret', (v) => v.secret],
  ['updated', (v) => v.updatedAt],
]

interface Scope {
  env?: string
  project?: string
  workspace?: string
  secret?: boolean
}

const scope = (c: Command): Command =>
  c
    .option('--env <env>', 'environment: id, name (with --project) or project/env')
    .option('--project <project>', 'project name or id')
    .option('--workspace <ws>', 'workspace name or id')

export function varsCommand(): Command {
  const cmd = new Command('vars').description('environment variables (secret values are never shown)')
  scope(cmd.command('list')).action(async (o: Scope, c: Command) => {
    const client = createClient()
    print(
      c,
      await client.request<{ items: Variable[] }>(
        'GET',
        `/v1/environments/${await resolveEnvironment(client, o.env, o)}/variables`,
      ),
      columns,
    )
  })
  scope(cmd.command('set <pairs...>').description('set K=V pairs'))
    .option('--secret', 'store as secret (encrypted, never shown again)')
    .action(async (pairs: string[], o: Scope, c: Command) => {
      const variables = pairs.map((p) => {
        const i = p.indexOf('=')
        if (i <= 0) throw new UsageError(`${JSON.stringify(p)} is not K=V`)
        return { name: p.slice(0, i), value: p.slice(i + 1), ...(o.secret ? { secret: true } : {}) }
      })
      const client = createClient()
      const result = await client.request<{ items: Variable[] }>(
        'PUT',
        `/v1/environments/${await resolveEnvironment(client, o.env, o)}/variables`,
        { variables },
      )
      done(c, `Set ${variables.map((v) => v.name).join(', ')}.`, result)
    })
  scope(cmd.command('unset <names...>')).action(async (names: string[], o: Scope, c: Command) => {
    const client = createClient()
    const env = await resolveEnvironment(client, o.env, o)
    for (const n of names)
      await client.request('DELETE', `/v1/environments/${env}/variables/${encodeURIComponent(n)}`)
    done(c, `Unset ${names.join(', ')}.`)
  })
  return cmd
}
