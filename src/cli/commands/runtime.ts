import { Command } from 'commander'
import { createClient, type ApiClient } from '../client.js'
import { print, stdio, wantsJson, type Io } from '../output.js'
import { resolveEnvironment, UsageError } from '../resolve.js'

interface PlanStep {
  kind: string
  version: string | null
  due: string
  reason: string
  postponed?: boolean
}
interface Plan {
  setting: string
  current: string | null
  target?: string
  steps: PlanStep[]
  eol?: { major: number; date: string; status: string; options: string[]; choice?: string }
  notices: string[]
  postponedUntil?: string | null
  retryAfter?: string | null
  updating?: string | null
}
interface CatalogRow {
  runtime: string
  major: number
  releasedAt: string
  ltsFrom: string | null
  eolAt: string
  latest: string | null
}

export interface RuntimeCommandDeps {
  readonly client?: () => ApiClient
  readonly io?: Io
}

// Control characters from the server never reach the terminal raw (escape-sequence injection).

const safe = (s: string): string => s.replace(/[\x00-\x1f\x7f]/g, '?')
const when = (iso: string): string => iso.replace('T', ' ').replace(/:\d\d\.\d{3}Z$/, ' UTC')

/** Human form of a plan: a summary line, the steps with their rule, end of life, notices. */
export function formatPlan(plan: Plan): string[] {
  const lines = [
    `${safe(plan.setting)} · running ${safe(plan.current ?? '(not deployed)')}${plan.target ? ` · next: ${safe(plan.target)}` : ''}`,
  ]
  for (const s of plan.steps) {
    lines.push(
      `  ${when(s.due)}  ${s.kind.padEnd(10)} ${safe(s.version ?? '-').padEnd(9)} ${safe(s.reason)}${s.postponed ? ' [postponed]' : ''}`,
    )
  }
  if (plan.eol) {
    const chosen = plan.eol.choice
      ? ` Chosen: ${safe(plan.eol.choice)}.`
      : ` Options: ${plan.eol.options.map(safe).join(' | ')}.`
    lines.push(
      `End of life: ${plan.eol.major} ${plan.eol.status === 'reached' ? 'reached' : 'on'} ${safe(plan.eol.date)}.${chosen}`,
    )
  }
  for (const n of plan.notices) lines.push(`note: ${safe(n)}`)
  if (plan.postponedUntil) lines.push(`Updates postponed until ${when(plan.postponedUntil)}.`)
  if (plan.updating) lines.push(`Updating now: deployment ${safe(plan.updating)}.`)
  if (plan.retryAfter) lines.push(`The last update failed; no new attempt before ${when(plan.retryAfter)}.`)
  return lines
}

/** `2026-12-20` means midnight UTC that day; anything else goes to the API as given (it validates). */
function untilArg(value: string): string {
  return /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00.000Z` : value
}

/** `palisade runtime plan <env>`: the environment's runtime update plan. */
export function runtimeCommand(deps: RuntimeCommandDeps = {}): Command {
  const client = deps.client ?? (() => createClient())
  const io = deps.io ?? stdio
  const cmd = new Command('runtime').description('runtime updates of an environment')
  cmd
    .command('plan')
    .description('show what runtime updates are due now and scheduled, with the rule behind each')
    .argument('<env>', 'environment id, project/env, or a name with --project')
    .option('--project <project>', 'project name or id')
    .option('--workspace <workspace>', 'workspace name or id')
    .action(async (ref: string, opts: { project?: string; workspace?: string }, c: Command) => {
      const api = client()
      const id = await resolveEnvironment(api, ref, opts)
      const plan = await api.request<Plan>(
        'GET',
        `/v1/environments/${encodeURIComponent(id)}/runtime-updates`,
      )
      if (wantsJson(c)) io.out(JSON.stringify(plan, null, 2))
      else for (const line of formatPlan(plan)) io.out(line)
    })
  cmd
    .command('postpone')
    .description(
      'hold runtime updates until a date (refused past the policy: security fixes 30 days after release, patches and minors 4 windows)',
    )
    .argument('<env>', 'environment id, project/env, or a name with --project')
    .option('--until <date>', 'YYYY-MM-DD (midnight UTC) or an ISO 8601 date-time')
    .option('--clear', 'lift the hold')
    .option('--project <project>', 'project name or id')
    .option('--workspace <workspace>', 'workspace name or id')
    .action(
      async (
        ref: string,
        opts: { until?: string; clear?: boolean; project?: string; workspace?: string },
        c: Command,
      ) => {
        if ((opts.until === undefined) === (opts.clear !== true))
          throw new UsageError('give either --until <date> or --clear')
        const api = client()
        const id = await resolveEnvironment(api, ref, opts)
        const plan = await api.request<Plan>(
          'POST',
          `/v1/environments/${encodeURIComponent(id)}/runtime-updates/postpone`,
          { until: opts.until === undefined ? null : untilArg(opts.until) },
        )
        if (wantsJson(c)) io.out(JSON.stringify(plan, null, 2))
        else for (const line of formatPlan(plan)) io.out(line)
      },
    )
  return cmd
}

/** `palisade runtimes list` (the catalog, via the API) and `palisade runtimes refresh` (operator, on this host). */
export function runtimesCommand(deps: RuntimeCommandDeps = {}): Command {
  const client = deps.client ?? (() => createClient())
  const io = deps.io ?? stdio
  const cmd = new Command('runtimes').description('the runtime catalog')
  cmd
    .command('list')
    .description('runtime majors with their release, LTS and end-of-life dates')
    .action(async (_opts: unknown, c: Command) => {
      const body = await client().request<{ generatedAt: string; items: CatalogRow[] }>('GET', '/v1/runtimes')
      print(
        c,
        wantsJson(c) ? body : body.items,
        [
          ['runtime', (r: CatalogRow) => r.runtime],
          ['major', (r: CatalogRow) => r.major],
          ['latest', (r: CatalogRow) => r.latest],
          ['released', (r: CatalogRow) => r.releasedAt],
          ['lts', (r: CatalogRow) => r.ltsFrom],
          ['eol', (r: CatalogRow) => r.eolAt],
        ],
        io,
      )
    })
  cmd
    .command('refresh')
    .description(
      'rebuild the Node catalog from the npm registry into <data>/runtimes/catalog.json (run on the server host)',
    )
    .option('--data-dir <dir>', 'data directory [PALISADE_DATA_DIR]')
    .action(async (opts: { dataDir?: string }, c: Command) => {
      // Operator command: it writes the server's data directory, like `serve`, instead of calling the API.
      const { loadConfig, settingsFromEnv } = await import('../../config/index.js')
      const { createRuntimes, createRegistryFetch } = await import('../../runtimes/index.js')
      const config = loadConfig(settingsFromEnv(), opts.dataDir ? { dataDir: opts.dataDir } : {})
      const result = await createRuntimes({ dataDir: config.dataDir }).refresh(createRegistryFetch())
      const node = result.catalog.runtimes['node']
      const summary = {
        file: result.file,
        generatedAt: result.catalog.generatedAt,
        versions: node?.versions.length ?? 0,
        added: result.added,
      }
      if (wantsJson(c)) io.out(JSON.stringify(summary, null, 2))
      else
        io.out(
          `${summary.file}: ${summary.versions} node versions (${summary.added.length} new${summary.added.length ? `: ${summary.added.slice(-10).join(', ')}` : ''}), generated ${summary.generatedAt}`,
        )
    })
  return cmd
}
