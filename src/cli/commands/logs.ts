import { Command } from 'commander'
import { ApiError, createClient } from '../client.js'
import { wantsJson } from '../output.js'
import { UsageError, resolveEnvironment } from '../resolve.js'
import { safeText, streamLog, withScope, type EnvScope } from './deploy.js'

interface LogsOptions extends EnvScope {
  follow?: boolean
  deployment?: string
  source?: string
  status?: string
  path?: string
  since?: string
  lines?: string
}

/** One line of the environment stream as text: app output as written, access lines as a short summary. */
function formatLine(line: Record<string, unknown>): string {
  if (line['source'] === 'app')
    return `${typeof line['at'] === 'string' ? line['at'] + ' ' : ''}app    ${String(line['text'])}`
  return [
    String(line['at']),
    'access',
    String(line['method']),
    String(line['path']),
    String(line['status']),
    `${String(line['durationMs'])}ms`,
    String(line['clientIp']),
    typeof line['outcome'] === 'string' ? line['outcome'] : '',
  ]
    .join(' ')
    .trimEnd()
}

export function logsCommand(): Command {
  return withScope(
    new Command('logs').argument('<env>', 'environment: id, project/env, or name with --project'),
  )
    .description("the app's output and the edge's access log of an environment (or a deployment's build log)")
    .option('-f, --follow', 'keep streaming new lines')
    .option('--source <source>', 'all (default), app or access')
    .option('--status <status>', 'access lines with this status (404) or class (5xx)')
    .option('--path <prefix>', 'access lines whose path starts with this')
    .option('--since <when>', 'lines since a duration ago (10m, 2h) or an ISO 8601 time')
    .option('-n, --lines <n>', 'kept lines to show first (default 100)')
    .option('--deployment <id>', "a deployment's build and release log instead")
    .action(async (env: string, o: LogsOptions, cmd: Command) => {
      const client = createClient()
      if (o.deployment) {
        const path = `/v1/deployments/${encodeURIComponent(o.deployment)}/logs`
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
        if (wantsJson(cmd))
          process.stdout.write(JSON.stringify({ deploymentId: o.deployment, log: text }, null, 2) + '\n')
        else process.stdout.write(safeText(text))
        return
      }
      const id = await resolveEnvironment(client, env, o)
      const q = new URLSearchParams()
      if (o.follow) q.set('follow', 'true')
      if (o.source) q.set('source', o.source)
      if (o.status) q.set('status', o.status)
      if (o.path) q.set('pathPrefix', o.path)
      if (o.since) q.set('since', o.since)
      if (o.lines) {
        if (!/^\d{1,4}$/.test(o.lines)) throw new UsageError('--lines must be a number from 0 to 5000')
        q.set('lines', o.lines)
      }
      const res = await client.raw('GET', `/v1/environments/${id}/logs?${q.toString()}`)
      if (!res.ok || !res.body) {
        const body = (await res.json().catch(() => null)) as {
          error?: { code: string; message: string }
        } | null
        throw new ApiError(
          res.status,
          body?.error?.code ?? `http_${res.status}`,
          body?.error?.message ?? 'cannot read the log',
          res.headers.get('x-request-id') ?? undefined,
        )
      }
      const json = wantsJson(cmd)
      const decoder = new TextDecoder()
      let partial = ''
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        const parts = (partial + decoder.decode(chunk, { stream: true })).split('\n')
        partial = parts.pop() ?? ''
        for (const p of parts) {
          if (p === '') continue
          process.stdout.write(
            safeText(json ? p : formatLine(JSON.parse(p) as Record<string, unknown>)) + '\n',
          )
        }
      }
    })
}
