import { Command } from 'commander'
import { ApiError, createClient, type ApiClient } from '../client.js'
import { done, wantsJson } from '../output.js'
import { resolveEnvironment } from '../resolve.js'

export interface Deployment {
  id: string
  number: number
  kind: string
  status: string
  ref: string | null
  commit: string | null
  release: number | null
  createdAt: string
  finishedAt: string | null
  reason: string | null
}

export const DEPLOYMENT_COLUMNS: ReadonlyArray<[string, (d: Deployment) => string | number | null]> = [
  ['#', (d) => d.number],
  ['kind', (d) => d.kind],
  ['status', (d) => d.status],
  ['ref', (d) => d.ref],
  ['commit', (d) => (d.commit ? d.commit.slice(0, 12) : null)],
  ['release', (d) => d.release],
  ['created', (d) => d.createdAt],
  ['reason', (d) => d.reason],
]

export interface EnvScope {
  project?: string
  workspace?: string
}

export const withScope = (c: Command): Command =>
  c.option('--project <project>', 'project name or id').option('--workspace <ws>', 'workspace name or id')

/** Keeps app output from steering the terminal: control characters other than newline and tab are shown as `?`. */
export function safeText(text: string): string {
  return text.replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '?')
}

/** Streams a log (`follow=true` and `query`) to stdout until the server ends it. */
export async function streamLog(
  client: ApiClient,
  path: string,
  query: Record<string, string> = {},
): Promise<void> {
  const res = await client.raw(
    'GET',
    `${path}?${new URLSearchParams({ follow: 'true', ...query }).toString()}`,
  )
  if (!res.ok || !res.body)
    throw new ApiError(
      res.status,
      `http_${res.status}`,
      'cannot read the log',
      res.headers.get('x-request-id') ?? undefined,
    )
  const decoder = new TextDecoder()
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>)
    process.stdout.write(safeText(decoder.decode(chunk, { stream: true })))
}

/** Follows a deployment's log, then reports its outcome; a failed deployment is exit code 1. */
export async function followDeployment(client: ApiClient, cmd: Command, d: Deployment): Promise<void> {
  if (!wantsJson(cmd)) await streamLog(client, `/v1/deployments/${d.id}/logs`, { untilFinished: 'true' })
  let final = await client.request<Deployment>('GET', `/v1/deployments/${d.id}`)
  while (final.status !== 'succeeded' && final.status !== 'failed') {
    await new Promise((r) => setTimeout(r, 500))
    final = await client.request<Deployment>('GET', `/v1/deployments/${d.id}`)
  }
  if (final.status === 'failed')
    throw new ApiError(
      0,
      'deployment_failed',
      `deployment ${final.number} failed: ${final.reason ?? 'see the log'}`,
      undefined,
    )
  done(
    cmd,
    `Deployment ${final.number} succeeded (release ${final.release ?? '?'}, commit ${final.commit?.slice(0, 12) ?? '?'}).`,
    final,
  )
}

export function deployCommand(): Command {
  const cmd = withScope(
    new Command('deploy').argument('<env>', 'environment: id, project/env, or name with --project'),
  )
    .description("deploy an environment's branch (or --ref), following the build log")
    .option('--ref <ref>', 'branch, tag or commit to deploy instead of the tracked branch')
    .option('--no-wait', 'return once the deployment is queued')
    .action(async (env: string, o: EnvScope & { ref?: string; wait: boolean }, c: Command) => {
      const client = createClient()
      const id = await resolveEnvironment(client, env, o)
      const d = await client.request<Deployment>(
        'POST',
        `/v1/environments/${id}/deployments`,
        o.ref ? { ref: o.ref } : {},
      )
      if (!o.wait) return done(c, `Deployment ${d.number} queued (${d.id}).`, d)
      await followDeployment(client, c, d)
    })
  return cmd
}
