import { readFileSync, statSync } from 'node:fs'
import { Command } from 'commander'
import { createClient } from '../client.js'
import { done, print } from '../output.js'
import { resolveEnvironment, resolveProject, UsageError } from '../resolve.js'

interface Sync {
  id: string
  environmentId: string
  sourceEnvironmentId: string
  status: string
  reason: string | null
  services: string[]
  files: boolean
  rulesApplied: number
  backupId: string | null
  createdAt: string
  finishedAt: string | null
}

interface Rule {
  service: string
  table: string
  column: string
  method: string
  value?: string
}

interface Settings {
  projectId: string
  rules: Rule[]
  updatedAt: string | null
  unchecked?: number[]
}

/** A rules file is read whole; the API takes 1 MiB bodies at most anyway. */
const MAX_RULES_FILE = 1024 * 1024

const collect = (v: string, prev: string[] = []): string[] => [...prev, v]

/** `palisade sync <from-env> <to-env>`: copy data between environments of a project, anonymized. */
export function syncCommand(): Command {
  return new Command('sync')
    .description(
      'copy the databases (and with --files the persistent directories) of one environment into another of the same project, with the project’s anonymization rules applied; the target is backed up first',
    )
    .argument('<from-env>', 'source environment: id, name (with --project) or project/env')
    .argument('<to-env>', 'target environment: id, name (with --project) or project/env')
    .option('--project <project>', 'project name or id (for environment names)')
    .option('--workspace <ws>', 'workspace name or id')
    .option('--service <name>', 'only this service (repeatable; Redis is copied only when named)', collect)
    .option('--files', 'also copy the persistent directories both environments declare')
    .option('--wait', 'wait until the sync has finished')
    .action(
      async (
        fromRef: string,
        toRef: string,
        o: { project?: string; workspace?: string; service?: string[]; files?: boolean; wait?: boolean },
        c: Command,
      ) => {
        const client = createClient()
        const from = await resolveEnvironment(client, fromRef, o)
        const to = await resolveEnvironment(client, toRef, o)
        let s = await client.request<Sync>('POST', `/v1/environments/${to}/sync`, {
          from,
          ...(o.service ? { services: o.service } : {}),
          ...(o.files ? { files: true } : {}),
        })
        while (o.wait && s.status === 'running') {
          await new Promise((r) => setTimeout(r, 1000))
          s = await client.request<Sync>('GET', `/v1/syncs/${s.id}`)
        }
        if (s.status === 'failed') process.exitCode = 1
        const what = [s.services.join(', '), s.files ? 'files' : ''].filter(Boolean).join(' + ')
        done(
          c,
          `Sync ${s.id} (${what}, ${s.rulesApplied} rules) ${s.status === 'running' || s.status === 'queued' ? `is still ${s.status}` : s.status}${s.reason ? `: ${s.reason}` : ''}${
            s.backupId ? `; the target's previous data is backup ${s.backupId}` : ''
          }.`,
          s,
        )
      },
    )
}

function readRules(file: string): Rule[] {
  let size: number
  try {
    size = statSync(file).size
  } catch {
    throw new UsageError(`${file} is not readable`)
  }
  if (size > MAX_RULES_FILE) throw new UsageError(`${file} is larger than 1 MiB`)
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'))
  } catch {
    throw new UsageError(`${file} is not JSON`)
  }
  // Either the API's own shape or a bare list of rules.
  const rules = Array.isArray(parsed) ? parsed : (parsed as { rules?: unknown } | null)?.rules
  if (!Array.isArray(rules)) throw new UsageError(`${file} must hold {"rules": [...]} or a list of rules`)
  return rules as Rule[]
}

const columns: ReadonlyArray<[string, (r: Rule) => string]> = [
  ['service', (r) => r.service],
  ['table', (r) => r.table],
  ['column', (r) => r.column],
  ['method', (r) => r.method],
  ['value', (r) => r.value ?? ''],
]

/** `palisade anonymization get|set <project>`. */
export function anonymizationCommand(): Command {
  const cmd = new Command('anonymization').description(
    'rules applied to a project’s data when it is synced between environments',
  )
  cmd
    .command('get <project>')
    .option('--workspace <ws>', 'workspace name or id')
    .action(async (ref: string, o: { workspace?: string }, c: Command) => {
      const client = createClient()
      const project = await resolveProject(client, ref, o.workspace)
      const s = await client.request<Settings>('GET', `/v1/projects/${project}/anonymization`)
      print(c, c.optsWithGlobals<{ json?: boolean }>().json ? s : { items: s.rules }, columns)
    })
  cmd
    .command('set <project>')
    .description(
      'replace the rules with those of a JSON file: {"rules": [{service, table, column, method, value?}]}',
    )
    .requiredOption('--file <rules.json>', 'the rules')
    .option('--workspace <ws>', 'workspace name or id')
    .action(async (ref: string, o: { file: string; workspace?: string }, c: Command) => {
      const rules = readRules(o.file)
      const client = createClient()
      const project = await resolveProject(client, ref, o.workspace)
      const s = await client.request<Settings>('PUT', `/v1/projects/${project}/anonymization`, { rules })
      const unchecked = (s.unchecked ?? []).map((i) => s.rules[i]).filter((r) => r !== undefined)
      const types = [...new Set(unchecked.map((r) => r.service))].join(' or ')
      done(
        c,
        unchecked.length === 0
          ? `Saved ${s.rules.length} anonymization rules.`
          : `Saved ${s.rules.length} anonymization rules. ${unchecked.length} not checked yet (no running ${types} service in the project): they are checked at each sync.`,
        s,
      )
    })
  return cmd
}
