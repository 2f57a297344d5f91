import { Command } from 'commander'
import { createClient } from '../client.js'
import { print, stdio, wantsJson } from '../output.js'
import { listAll, resolveEnvironment } from '../resolve.js'
import { DEPLOYMENT_COLUMNS, withScope, type Deployment, type EnvScope } from './deploy.js'

interface EnvStatus {
  environmentId: string
  currentRelease: number | null
  currentDeploymentId: string | null
  maintenance: boolean
  process: { state: string; restarts: number; pid: number | null } | null
  isolation: string
  /** `failed` while the app crash-loops (until a deployment succeeds); absent from older servers. */
  status?: 'ok' | 'failed'
  failure?: { reason: string; summary: string; since: string } | null
}

/** `palisade deployments list <env>` and `palisade deployments show <id>`: the environment's deployment history. */
export function deploymentsCommand(): Command {
  const cmd = new Command('deployments').description(
    'deployments and rollbacks of an environment (newest first)',
  )
  withScope(cmd.command('list <env>'))
    .description('every deployment: number, kind, status, commit, release, reason')
    .action(async (env: string, o: EnvScope, c: Command) => {
      const client = createClient()
      const id = await resolveEnvironment(client, env, o)
      print(
        c,
        { items: await listAll<Deployment>(client, `/v1/environments/${id}/deployments`) },
        DEPLOYMENT_COLUMNS,
      )
    })
  cmd
    .command('show <id>')
    .description('one deployment')
    .action(async (id: string, _o, c: Command) => {
      print(
        c,
        await createClient().request<Deployment>('GET', `/v1/deployments/${encodeURIComponent(id)}`),
        DEPLOYMENT_COLUMNS,
      )
    })
  return cmd
}

/** `palisade status <env>`: the release serving now, its deployment, the app process and maintenance. */
export function statusCommand(): Command {
  return withScope(
    new Command('status').argument('<env>', 'environment: id, project/env, or name with --project'),
  )
    .description("an environment's current release and deployment, its app process and maintenance mode")
    .action(async (env: string, o: EnvScope, c: Command) => {
      const client = createClient()
      const id = await resolveEnvironment(client, env, o)
      const s = await client.request<EnvStatus>('GET', `/v1/environments/${id}/status`)
      const current = s.currentDeploymentId
        ? await client.request<Deployment>('GET', `/v1/deployments/${s.currentDeploymentId}`)
        : null
      if (wantsJson(c)) return print(c, { ...s, currentDeployment: current })
      const p = s.process
      for (const [k, v] of [
        ['environment', s.environmentId],
        [
          'status',
          s.status === 'failed'
            ? `FAILED since ${s.failure?.since ?? '?'}: ${s.failure?.summary ?? s.failure?.reason ?? 'crash loop'}`
            : (s.status ?? 'ok'),
        ],
        ['release', s.currentRelease === null ? 'none (never deployed)' : String(s.currentRelease)],
        [
          'deployment',
          current
            ? `${current.number} (${current.id}), ${current.kind}, ${current.status}, commit ${current.commit?.slice(0, 12) ?? '-'}`
            : '-',
        ],
        [
          'process',
          p ? `${p.state}${p.pid === null ? '' : `, pid ${p.pid}`}, ${p.restarts} restarts` : 'none',
        ],
        ['maintenance', s.maintenance ? 'on (the edge answers 503)' : 'off'],
        ['isolation', s.isolation],
      ])
        stdio.out(`${(k ?? '').padEnd(12)} ${(v ?? '').replace(/[\x00-\x1f\x7f]/g, '?')}`)
    })
}

/**
 * `palisade clear-failed <env>`: clears the environment's `failed` mark (set when its app crash-looped) without a
 * deployment, for whoever may deploy it. The server records who did it in the audit log.
 */
export function clearFailedCommand(): Command {
  return withScope(
    new Command('clear-failed').argument('<env>', 'environment: id, project/env, or name with --project'),
  )
    .description(
      "clear an environment's failed mark (its app crash-looped) without deploying; it is marked again if the app still crash-loops",
    )
    .action(async (env: string, o: EnvScope, c: Command) => {
      const client = createClient()
      const id = await resolveEnvironment(client, env, o)
      const health = await client.request<{ status: string }>('DELETE', `/v1/environments/${id}/failure`)
      if (wantsJson(c)) return print(c, { environmentId: id, ...health })
      stdio.out(`environment ${id}: failed mark cleared (status ${health.status})`)
    })
}
