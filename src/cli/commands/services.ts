import { Command } from 'commander'
import { createClient } from '../client.js'
import { done, print, wantsJson } from '../output.js'
import { UsageError, resolveEnvironment } from '../resolve.js'
import { safeText, streamLog } from './deploy.js'

interface Service {
  id: string
  type: string
  name: string
  version: string
  status: string
  reason: string | null
  process?: { state: string; pid: number | null; restarts: number } | null
  usage?: { dataBytes: number; memoryRssBytes: number | null }
}

const mb = (n: number | null | undefined): string =>
  n === null || n === undefined ? '' : `${(n / 1048576).toFixed(1)} MB`

const columns: ReadonlyArray<[string, (s: Service) => string]> = [
  ['id', (s) => s.id],
  ['name', (s) => s.name],
  ['type', (s) => `${s.type} ${s.version}`],
  ['status', (s) => s.status],
]

const detailColumns: ReadonlyArray<[string, (s: Service) => string | number]> = [
  ...columns,
  ['pid', (s) => s.process?.pid ?? ''],
  ['restarts', (s) => s.process?.restarts ?? ''],
  ['memory', (s) => mb(s.usage?.memoryRssBytes)],
  ['data', (s) => mb(s.usage?.dataBytes)],
  ['reason', (s) => s.reason ?? ''],
]

interface Scope {
  env?: string
  project?: string
  workspace?: string
}

const scope = (c: Command): Command =>
  c
    .option('--env <env>', 'environment: id, name (with --project) or project/env')
    .option('--project <project>', 'project name or id')
    .option('--workspace <ws>', 'workspace name or id')

export function servicesCommand(): Command {
  const cmd = new Command('services').description('private MariaDB, Redis and PostgreSQL per environment')
  scope(cmd.command('list')).action(async (o: Scope, c: Command) => {
    const client = createClient()
    print(
      c,
      await client.request<{ items: Service[] }>(
        'GET',
        `/v1/environments/${await resolveEnvironment(client, o.env, o)}/services`,
      ),
      columns,
    )
  })
  scope(
    cmd
      .command('create <type>')
      .description('provision mariadb, redis or postgresql (its variables reach the next deployment)'),
  )
    .option('--name <name>', 'service name (default: the type)')
    .option('--version <version>', 'version (only the installed one is available)')
    .option('--wait', 'wait until it runs')
    .action(
      async (type: string, o: Scope & { name?: string; version?: string; wait?: boolean }, c: Command) => {
        const client = createClient()
        const env = await resolveEnvironment(client, o.env, o)
        let svc = await client.request<Service>('POST', `/v1/environments/${env}/services`, {
          type,
          ...(o.name ? { name: o.name } : {}),
          ...(o.version ? { version: o.version } : {}),
        })
        while (o.wait && svc.status === 'provisioning') {
          await new Promise((r) => setTimeout(r, 1000))
          svc = await client.request<Service>('GET', `/v1/services/${svc.id}`)
        }
        if (svc.status === 'failed') process.exitCode = 1
        done(
          c,
          `Service ${svc.name} (${svc.type} ${svc.version}) ${svc.status === 'failed' ? 'failed' : `is ${svc.status}`}${svc.reason ? `: ${svc.reason}` : ''}.`,
          svc,
        )
      },
    )
  cmd.command('show <id>').action(async (id: string, _o: unknown, c: Command) => {
    print(
      c,
      await createClient().request<Service>('GET', `/v1/services/${encodeURIComponent(id)}`),
      detailColumns,
    )
  })
  cmd
    .command('logs <id>')
    .description("the last lines of the service's server output")
    .option('-n, --lines <n>', 'how many lines (default 100, at most 5000)')
    .option('-f, --follow', 'keep printing new lines as the server writes them (Ctrl-C ends)')
    .action(async (id: string, o: { lines?: string; follow?: boolean }, c: Command) => {
      if (o.lines !== undefined && !/^\d{1,4}$/.test(o.lines))
        throw new UsageError('--lines must be a number from 1 to 5000')
      const path = `/v1/services/${encodeURIComponent(id)}/logs`
      if (o.follow) return streamLog(createClient(), path, { lines: o.lines ?? '100' })
      const q = o.lines === undefined ? '' : `?lines=${o.lines}`
      const res = await createClient().request<{ lines: string[] }>('GET', `${path}${q}`)
      if (wantsJson(c)) print(c, res)
      else for (const line of res.lines) process.stdout.write(safeText(line) + '\n')
    })
  cmd
    .command('credentials <id>')
    .description('show the app user’s password and URL (owners and admins; recorded in the audit log)')
    .action(async (id: string, _o: unknown, c: Command) => {
      const creds = await createClient().request<{
        user: string
        password: string
        url: string
        variables: Record<string, string>
      }>('GET', `/v1/services/${encodeURIComponent(id)}/credentials`)
      print(c, creds, [
        ['user', (x: typeof creds) => x.user],
        ['password', (x: typeof creds) => x.password],
        ['url', (x: typeof creds) => x.url],
      ])
    })
  cmd
    .command('delete <id>')
    .description('stop a service; with --delete-data remove it and its data for good')
    .option('--delete-data', 'also delete the data (irreversible)')
    .action(async (id: string, o: { deleteData?: boolean }, c: Command) => {
      await createClient().request(
        'DELETE',
        `/v1/services/${encodeURIComponent(id)}${o.deleteData ? '?deleteData=true' : ''}`,
      )
      done(
        c,
        o.deleteData
          ? `Deleted service ${id} and its data.`
          : `Stopped service ${id}; its data is kept (delete again with --delete-data to remove it).`,
      )
    })
  return cmd
}
