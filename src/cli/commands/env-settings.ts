import { Command } from 'commander'
import { createClient } from '../client.js'
import { print } from '../output.js'
import { readStdinLine } from '../prompt.js'
import { resolveEnvironment, UsageError } from '../resolve.js'
import { withScope, type EnvScope } from './deploy.js'

interface WafEvent {
  at: string
  requestId: string
  clientIp: string
  method: string
  uri: string
  action: string
  score: number
  rules: Array<{ id: number; msg?: string }>
}

interface WafSettings {
  paranoia: number
  inboundThreshold: number
  outboundThreshold: number
  exclusions: Array<{ ruleId?: number | [number, number]; tag?: string; target?: string }>
  mode: string
}

interface Access {
  ipAllow: string[]
  ipGroups: string[]
  password: { username: string } | null
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v]

function integer(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined
  if (!/^\d{1,9}$/.test(v)) throw new UsageError(`${name} takes a whole number (got ${v})`)
  return Number(v)
}

/** `--exclude 942100`, `--exclude 942100-942999`, `--exclude tag:attack-sqli`, each optionally `@ARGS:q`. */
export function parseExclusion(text: string): {
  ruleId?: number | [number, number]
  tag?: string
  target?: string
} {
  const [what = '', target] = text.split('@', 2)
  const out: { ruleId?: number | [number, number]; tag?: string; target?: string } = {}
  const range = /^(\d{1,8})-(\d{1,8})$/.exec(what)
  if (/^\d{1,8}$/.test(what)) out.ruleId = Number(what)
  else if (range) out.ruleId = [Number(range[1]), Number(range[2])]
  else if (what.startsWith('tag:') && what.length > 4) out.tag = what.slice(4)
  else
    throw new UsageError(
      `--exclude takes a rule id (942100), a range (942100-942999) or tag:<tag>, optionally @<target>; got ${text}`,
    )
  if (target !== undefined) out.target = target
  return out
}

/** Adds `waf events <env>` and `waf settings <env> [--paranoia …]` to the `waf` command. */
export function addWafEnvironmentCommands(waf: Command): Command {
  withScope(waf.command('events <env>'))
    .description('requests the WAF blocked in an environment, newest first')
    .option('--limit <n>', 'how many (1–200)', '50')
    .action(async (env: string, o: EnvScope & { limit: string }, c: Command) => {
      const client = createClient()
      const id = await resolveEnvironment(client, env, o)
      const page = await client.request<{ items: WafEvent[] }>(
        'GET',
        `/v1/environments/${id}/waf-events?limit=${integer('--limit', o.limit) ?? 50}`,
      )
      print(c, page, [
        ['at', (e: WafEvent) => e.at],
        ['request', (e: WafEvent) => e.requestId],
        ['client', (e: WafEvent) => e.clientIp],
        ['request line', (e: WafEvent) => `${e.method} ${e.uri}`.slice(0, 80)],
        ['score', (e: WafEvent) => e.score],
        ['rules', (e: WafEvent) => e.rules.map((r) => r.id).join(',')],
      ])
    })
  withScope(waf.command('settings <env>'))
    .description('show, or with options change, the WAF tuning of an environment (it cannot be turned off)')
    .option('--paranoia <1-4>', 'CRS paranoia level')
    .option('--inbound-threshold <n>', 'anomaly score that blocks a request')
    .option('--outbound-threshold <n>', 'anomaly score that blocks a response')
    .option(
      '--exclude <rule>',
      'add a rule exclusion: id, id-id or tag:<tag>, optionally @<target> (repeatable)',
      collect,
    )
    .option('--clear-exclusions', 'remove every rule exclusion')
    .action(
      async (
        env: string,
        o: EnvScope & {
          paranoia?: string
          inboundThreshold?: string
          outboundThreshold?: string
          exclude?: string[]
          clearExclusions?: boolean
        },
        c: Command,
      ) => {
        const client = createClient()
        const id = await resolveEnvironment(client, env, o)
        const path = `/v1/environments/${id}/waf`
        const current = await client.request<WafSettings>('GET', path)
        const change: Record<string, unknown> = {}
        const paranoia = integer('--paranoia', o.paranoia)
        if (paranoia !== undefined) change['paranoia'] = paranoia
        const inbound = integer('--inbound-threshold', o.inboundThreshold)
        if (inbound !== undefined) change['inboundThreshold'] = inbound
        const outbound = integer('--outbound-threshold', o.outboundThreshold)
        if (outbound !== undefined) change['outboundThreshold'] = outbound
        if (o.clearExclusions || o.exclude)
          change['exclusions'] = [
            ...(o.clearExclusions ? [] : current.exclusions),
            ...(o.exclude ?? []).map(parseExclusion),
          ]
        const s =
          Object.keys(change).length === 0 ? current : await client.request<WafSettings>('PUT', path, change)
        print(c, s, [
          ['mode', (x: WafSettings) => x.mode],
          ['paranoia', (x: WafSettings) => x.paranoia],
          ['inbound threshold', (x: WafSettings) => x.inboundThreshold],
          ['outbound threshold', (x: WafSettings) => x.outboundThreshold],
          [
            'exclusions',
            (x: WafSettings) =>
              x.exclusions
                .map(
                  (e) =>
                    `${Array.isArray(e.ruleId) ? e.ruleId.join('-') : (e.ruleId ?? `tag:${e.tag ?? ''}`)}${e.target ? `@${e.target}` : ''}`,
                )
                .join(' ') || '-',
          ],
        ])
      },
    )
  return waf
}

/** `palisade access show|set <env>`: IP allow list, IP groups and password protection of an environment. */
export function accessCommand(): Command {
  const cmd = new Command('access').description(
    'who may reach an environment through the edge (IP allow list, ip-groups, password)',
  )
  const columns: ReadonlyArray<[string, (a: Access) => string]> = [
    ['ip allow', (a) => a.ipAllow.join(' ') || 'anyone'],
    ['ip groups', (a) => a.ipGroups.join(' ') || '-'],
    ['password', (a) => (a.password ? `on (user ${a.password.username})` : 'off')],
  ]
  withScope(cmd.command('show <env>'))
    .description('the access rules')
    .action(async (env: string, o: EnvScope, c: Command) => {
      const client = createClient()
      const id = await resolveEnvironment(client, env, o)
      print(c, await client.request<Access>('GET', `/v1/environments/${id}/access`), columns)
    })
  withScope(cmd.command('set <env>'))
    .description('replace the access rules (no --ip-allow/--ip-group: no IP restriction)')
    .option('--ip-allow <cidr>', 'allowed address or CIDR (repeatable)', collect)
    .option('--ip-group <id>', 'allowed IP group id (repeatable; see the API’s /ip-groups)', collect)
    .option(
      '--password-user <name>',
      'turn password protection (HTTP Basic) on for this user name; the password is read from standard input',
    )
    .action(
      async (
        env: string,
        o: EnvScope & { ipAllow?: string[]; ipGroup?: string[]; passwordUser?: string },
        c: Command,
      ) => {
        const client = createClient()
        const id = await resolveEnvironment(client, env, o)
        const password = o.passwordUser ? { username: o.passwordUser, password: await readStdinLine() } : null
        const a = await client.request<Access>('PUT', `/v1/environments/${id}/access`, {
          ipAllow: o.ipAllow ?? [],
          ipGroups: o.ipGroup ?? [],
          password,
        })
        print(c, a, columns)
      },
    )
  withScope(cmd.command('update <env>'))
    .description('change only what is named; the rest (the stored password too) stays as it is')
    .option('--ip-allow <cidr>', 'the new IP allow list: address or CIDR (repeatable)', collect)
    .option('--clear-ip-allow', 'no IP allow list')
    .option('--ip-group <id>', 'the new list of allowed IP group ids (repeatable)', collect)
    .option('--clear-ip-groups', 'no IP groups')
    .option(
      '--password-user <name>',
      'password protection on for this user name; the password is read from standard input',
    )
    .option('--no-password', 'password protection off')
    .action(
      async (
        env: string,
        o: EnvScope & {
          ipAllow?: string[]
          clearIpAllow?: boolean
          ipGroup?: string[]
          clearIpGroups?: boolean
          passwordUser?: string
          password?: boolean
        },
        c: Command,
      ) => {
        if (
          (o.ipAllow && o.clearIpAllow) ||
          (o.ipGroup && o.clearIpGroups) ||
          (o.passwordUser && o.password === false)
        )
          throw new UsageError('an option and its opposite were both given')
        const body: Record<string, unknown> = {}
        if (o.ipAllow || o.clearIpAllow) body['ipAllow'] = o.ipAllow ?? []
        if (o.ipGroup || o.clearIpGroups) body['ipGroups'] = o.ipGroup ?? []
        if (o.passwordUser) body['password'] = { username: o.passwordUser, password: await readStdinLine() }
        else if (o.password === false) body['password'] = null
        if (Object.keys(body).length === 0)
          throw new UsageError('nothing to change: name at least one option')
        const client = createClient()
        const id = await resolveEnvironment(client, env, o)
        print(c, await client.request<Access>('PATCH', `/v1/environments/${id}/access`, body), columns)
      },
    )
  return cmd
}
