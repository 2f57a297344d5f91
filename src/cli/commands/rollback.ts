import { Command } from 'commander'
import { createClient } from '../client.js'
import { resolveEnvironment } from '../resolve.js'
import { followDeployment, withScope, type EnvScope } from './deploy.js'

export function rollbackCommand(): Command {
  return withScope(
    new Command('rollback').argument('<env>', 'environment: id, project/env, or name with --project'),
  )
    .description('start the release before the current one again (no rebuild)')
    .action(async (env: string, o: EnvScope, c: Command) => {
      const client = createClient()
      const id = await resolveEnvironment(client, env, o)
      const d = await client.request<Parameters<typeof followDeployment>[2]>(
        'POST',
        `/v1/environments/${id}/rollback`,
      )
      await followDeployment(client, c, d)
    })
}
