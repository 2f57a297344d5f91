import { Command } from 'commander'
import { createClient } from '../client.js'
import { UsageError, resolveEnvironment } from '../resolve.js'
import { safeText, streamLog, withScope, type EnvScope } from './deploy.js'

export function logsCommand(): Command {
  return withScope(
    new Command('logs').argument('<env>', 'environment: id, project/env, or name with --project'),
  )
    .description('build log and app output of the current deployment (or --deployment)')
    .option('-f, --follow', 'keep streaming new output')
    .option('--deployment <id>', 'a given deployment instead of the current one')
    .action(async (env: string, o: EnvScope & { follow?: boolean; deployment?: string }, _c: Command) => {
      const client = createClient()
      let deployment = o.deployment
      if (!deployment) {
        const id = await resolveEnvironment(client, env, o)
        const status = await client.request<{ currentDeploymentId: string | null }>(
          'GET',
          `/v1/environments/${id}/status`,
        )
        const latest = await client.request<{ items: Array<{ id: string }> }>(
          'GET',
          `/v1/environments/${id}/deployments?limit=1`,
        )
        deployment = status.currentDeploymentId ?? latest.items[0]?.id
        if (!deployment) throw new UsageError('the environment has no deployment yet')
      }
      const path = `/v1/deployments/${encodeURIComponent(deployment)}/logs`
      if (o.follow) return streamLog(client, path)
      const res = await client.raw('GET', path)
      process.stdout.write(safeText(await res.text()))
    })
}
