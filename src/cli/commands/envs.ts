import { Command, InvalidArgumentError } from 'commander'
import { createClient } from '../client.js'
import { done, print, stdio, wantsJson } from '../output.js'
import { listAll, resolveEnvironment, resolveProject } from '../resolve.js'

interface Environment {
  id: string
  name: string
  branch: string
  criticality: string
  runtime: string
  host: string
}

const columns: ReadonlyArray<[string, (e: Environment) => string]> = [
  ['id', (e) => e.id],
  ['name', (e) => e.name],
  ['branch', (e) => e.branch],
  ['criticality', (e) => e.criticality],
  ['runtime', (e) => e.runtime],
  ['host', (e) => e.host],
]

interface InstanceStatus {
  instanceId: string
  state: string
  healthy: boolean
  pid: number | null
  restarts: number
  usage?: { memoryBytes: number; memoryLimitBytes: number; cpuRecent: number | null } | null
  oomKills?: number
  lastOomAt?: string | null
}

interface RuntimeStatus {
  sizing: { instances: number; memoryMb: number; cpu: number }
  limits: string
  instances: InstanceStatus[]
}

const MB = 1024 ** 2
const instanceColumns: ReadonlyArray<[string, (i: InstanceStatus) => string | number | null]> = [
  ['instance', (i) => i.instanceId],
  ['state', (i) => (i.state === 'running' && !i.healthy ? 'running (unhealthy)' : i.state)],
  ['pid', (i) => i.pid],
  ['restarts', (i) => i.restarts],
  [
    'memory',
    (i) =>
      i.usage
        ? `${Math.round(i.usage.memoryBytes / MB)} / ${Math.round(i.usage.memoryLimitBytes / MB)} MB`
        : null,
  ],
  [
    'cpu',
    (i) =>
      i.usage?.cpuRecent === null || i.usage === undefined || i.usage === null ? null : i.usage.cpuRecent,
  ],
  ['last oom', (i) => (i.lastOomAt ? `${i.lastOomAt} (${i.oomKills ?? 0}×)` : null)],
]

interface EnvOpts {
  workspace?: string
  project?: string
  branch?: string
  criticality?: string
  runtime?: string
  runtimeChannel?: string
  healthCheck?: string
  persistentDir?: string[]
  instances?: string
  memory?: string
  cpu?: string
  name?: string
  egressApp?: string
  egressBuild?: string
  throttle?: ThrottleValue
}

type ThrottleValue = { requestsPerSecond: number; burst: number } | 'off' | null

/** `--throttle`: `off`, `default`, `N` (burst 2N) or `N/B` requests per second per client. */
export function parseThrottle(value: string): ThrottleValue {
  if (value === 'off') return 'off'
  if (value === 'default') return null
  const m = /^(\d{1,6})(?:\/(\d{1,7}))?$/.exec(value)
  if (!m)
    throw new InvalidArgumentError(
      'throttle must be off, default, N or N/BURST (requests per second per client)',
    )
  const requestsPerSecond = Number(m[1])
  return { requestsPerSecond, burst: m[2] === undefined ? requestsPerSecond * 2 : Number(m[2]) }
}

/** `public`, `none`, `registries` stay words; anything else is a comma-separated list of host names. */
function egressValue(v: string): string | string[] {
  return ['public', 'none', 'registries'].includes(v)
    ? v
    : v
        .split(',')
        .map((h) => h.trim())
        .filter((h) => h !== '')
}

function body(o: EnvOpts): Record<string, unknown> {
  const b: Record<string, unknown> = {}
  if (o.name) b['name'] = o.name
  if (o.branch) b['branch'] = o.branch
  if (o.criticality) b['criticality'] = o.criticality
  if (o.runtime) b['runtime'] = o.runtime
  if (o.runtimeChannel) b['runtimeChannel'] = o.runtimeChannel
  if (o.healthCheck) b['healthCheckPath'] = o.healthCheck
  if (o.persistentDir) b['persistentDirs'] = o.persistentDir
  const sizing: Record<string, number> = {}
  if (o.instances) sizing['instances'] = Number(o.instances)
  if (o.memory) sizing['memoryMb'] = Number(o.memory)
  if (o.cpu) sizing['cpu'] = Number(o.cpu)
  if (Object.keys(sizing).length > 0) b['sizing'] = sizing
  const egress: Record<string, unknown> = {}
  if (o.egressApp) egress['app'] = egressValue(o.egressApp)
  if (o.egressBuild) egress['build'] = egressValue(o.egressBuild)
  if (Object.keys(egress).length > 0) b['egress'] = egress
  if (o.throttle !== undefined) b['throttle'] = o.throttle
  return b
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v]

function withSettings(c: Command): Command {
  return c
    .option('--branch <branch>', 'git branch to deploy')
    .option('--criticality <level>', 'production, staging or development')
    .option('--runtime <runtime>', 'node@20, php@8.2, static, custom:<image>')
    .option(
      '--runtime-channel <channel>',
      'stable, or deprecated: keep the major past its end of life, knowingly',
    )
    .option('--health-check <path>', 'health-check path')
    .option('--persistent-dir <dir>', 'persistent directory (repeatable)', collect)
    .option('--instances <n>', 'app processes of the current release (1–20; takes effect without a deploy)')
    .option('--memory <mb>', 'memory per instance, MiB (64–65536; over it the kernel kills the instance)')
    .option('--cpu <n>', 'CPUs per instance (0.1–16, a quota: 0.5 is half a core)')
    .option(
      '--egress-app <rule>',
      'where the app and jobs may connect out: public, none, or host,host,… (default public)',
    )
    .option(
      '--throttle <rate>',
      'edge limit per client address: N or N/BURST requests per second, off, or default (100/200)',
      parseThrottle,
    )
    .option(
      '--egress-build <rule>',
      'where builds may connect out: registries, public, none, or host,host,… (default registries)',
    )
}

export function envsCommand(): Command {
  const cmd = new Command('envs').alias('environments').description('environments of a project')
  const scope = (c: Command): Command =>
    c.option('--workspace <ws>', 'workspace name or id').option('--project <project>', 'project name or id')
  scope(cmd.command('list')).action(async (o: EnvOpts, c: Command) => {
    const client = createClient()
    const p = await resolveProject(client, o.project, o.workspace)
    print(
      c,
      { items: await listAll<Environment>(client, `/v1/projects/${p}/environments`), nextCursor: null },
      columns,
    )
  })
  withSettings(scope(cmd.command('create <name>'))).action(async (name: string, o: EnvOpts, c: Command) => {
    const client = createClient()
    const p = await resolveProject(client, o.project, o.workspace)
    print(
      c,
      await client.request<Environment>('POST', `/v1/projects/${p}/environments`, { ...body(o), name }),
      columns,
    )
  })
  scope(cmd.command('show <env>')).action(async (ref: string, o: EnvOpts, c: Command) => {
    const client = createClient()
    const id = await resolveEnvironment(client, ref, o)
    const env = await client.request<Environment>('GET', `/v1/environments/${id}`)
    const status = await client.request<RuntimeStatus>('GET', `/v1/environments/${id}/status`)
    if (wantsJson(c)) {
      print(c, { ...env, status })
      return
    }
    print(c, env, columns)
    stdio.out('')
    stdio.out(
      `sizing: ${status.sizing.instances} × ${status.sizing.memoryMb} MB, ${status.sizing.cpu} CPU — limits ${status.limits === 'none' ? 'NOT enforced on this host' : `enforced (${status.limits})`}`,
    )
    print(c, { items: status.instances, nextCursor: null }, instanceColumns)
  })
  withSettings(scope(cmd.command('update <env>')).option('--name <name>', 'new name')).action(
    async (ref: string, o: EnvOpts, c: Command) => {
      const client = createClient()
      print(
        c,
        await client.request<Environment>(
          'PATCH',
          `/v1/environments/${await resolveEnvironment(client, ref, o)}`,
          body(o),
        ),
        columns,
      )
    },
  )
  scope(cmd.command('delete <env>'))
    .option('--force', 'also delete its services, persistent data and backups')
    .action(async (ref: string, o: EnvOpts & { force?: boolean }, c: Command) => {
      const client = createClient()
      await client.request(
        'DELETE',
        `/v1/environments/${await resolveEnvironment(client, ref, o)}${o.force ? '?force=true' : ''}`,
      )
      done(c, `Deleted environment ${ref}.`)
    })
  return cmd
}
