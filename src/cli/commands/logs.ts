import { Command } from 'commander'
import { ApiError, createClient } from '../client.js'
import { wantsJson } from '../output.js'
import { UsageError, resolveEnvironment } from '../resolve.js'
import { safeText, streamLog, withScope, type EnvScope } from './deploy.js'

export function logsCommand(): Command {
  return withScope(
    new Command('logs').argument('<env>', 'environment: id, project/env, or name with --project'),
  )
    .description('build log and app output of the current deployment (or --deployment)')
    .option('-f, --follow', 'keep streaming new output')
    .option('--deployment <id>', 'a given deployment instead of the current one')
    .action(async (env: string, o: EnvScope & { follow?: boolean; deployment?: string }, c: Command) => {
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
      const text = await res.text()
      if (!res.ok) {
        // The API's error (a bad --deployment, not allowed): one line on stderr and exit 1, never JSON on stdout.
        const err = (
          JSON.parse(text.startsWith('{') ? text : '{}') as {
            error?: { code?: string; message?: string; requestId?: string }
          }
        ).error
        throw new ApiError(
          res.status,
          err?.code ?? `http_${res.status}`,
          err?.message ?? 'cannot read the log',
          err?.requestId ?? res.headers.get('x-request-id') ?? undefined,
        )
      }
      if (wantsJson(c))
        process.stdout.write(JSON.stringify({ deploymentId: deployment, log: text }, null, 2) + '\n')
      else process.stdout.write(safeText(text))
    })
}
