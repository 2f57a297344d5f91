import { createWriteStream, existsSync, statSync } from 'node:fs'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { ReadableStream as WebReadableStream } from 'node:stream/web'
import { Command } from 'commander'
import { ApiError, createClient } from '../client.js'
import { done, print } from '../output.js'
import { resolveEnvironment, UsageError } from '../resolve.js'

interface Backup {
  id: string
  status: string
  reason: string | null
  sizeBytes: number | null
  sha256: string | null
  contents: { services: Array<{ name: string }>; files: string[] }
  createdAt: string
  origin?: string
  sourceEnvironmentId?: string | null
}

interface Schedule {
  environmentId: string
  enabled: boolean
  everyHours: number
  keep: number
  files: boolean
  nextRunAt: string | null
  lastRunAt: string | null
  lastBackupId: string | null
  lastError: string | null
}

const columns: ReadonlyArray<[string, (b: Backup) => string]> = [
  ['id', (b) => b.id],
  ['status', (b) => b.status],
  ['created', (b) => b.createdAt],
  ['origin', (b) => b.origin ?? ''],
  ['size', (b) => (b.sizeBytes === null ? '' : `${(b.sizeBytes / 1048576).toFixed(1)} MB`)],
  ['services', (b) => b.contents.services.map((s) => s.name).join(',')],
  ['files', (b) => b.contents.files.join(',')],
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

/** For commands that name the environment as an argument (`<env>`: id, name with --project, or project/env). */
const within = (c: Command): Command =>
  c.option('--project <project>', 'project name or id').option('--workspace <ws>', 'workspace name or id')

const collect = (v: string, prev: string[] = []): string[] => [...prev, v]

/** `backup create|list` take the environment as an argument, like `backup import|schedule`, or as `--env`. */
function envOf(arg: string | undefined, o: Scope): string {
  if (arg !== undefined && o.env !== undefined && arg !== o.env)
    throw new UsageError(`two environments given (${arg} and --env ${o.env}): name one`)
  const env = arg ?? o.env
  if (env === undefined) throw new UsageError('name the environment: palisade backup … <project/env>')
  return env
}

/** A backup's state as a sentence ("Backup bak_… succeeded.", "… is still running.", "… failed: why"). */
export function backupSentence(b: { id: string; status: string; reason: string | null }): string {
  if (b.status === 'running') return `Backup ${b.id} is still running (see palisade backup list).`
  return `Backup ${b.id} ${b.status}${b.reason ? `: ${b.reason}` : ''}.`
}

export function backupCommand(): Command {
  const cmd = new Command('backup').description(
    'encrypted backups of an environment’s services and persistent directories',
  )
  scope(
    cmd
      .command('create [env]')
      .description('dump the services (all running ones by default) and the persistent directories'),
  )
    .option('--service <name>', 'only this service (repeatable)', collect)
    .option('--no-files', 'leave the persistent directories out')
    .option('--wait', 'wait until the archive is written')
    .action(
      async (
        arg: string | undefined,
        o: Scope & { service?: string[]; files: boolean; wait?: boolean },
        c: Command,
      ) => {
        const client = createClient()
        const env = await resolveEnvironment(client, envOf(arg, o), o)
        let b = await client.request<Backup>('POST', `/v1/environments/${env}/backups`, {
          ...(o.service ? { services: o.service } : {}),
          files: o.files,
        })
        while (o.wait && b.status === 'running') {
          await new Promise((r) => setTimeout(r, 1000))
          b = await client.request<Backup>('GET', `/v1/backups/${b.id}`)
        }
        if (b.status === 'failed') process.exitCode = 1
        done(c, backupSentence(b), b)
      },
    )
  scope(cmd.command('list [env]')).action(async (arg: string | undefined, o: Scope, c: Command) => {
    const client = createClient()
    print(
      c,
      await client.request<{ items: Backup[] }>(
        'GET',
        `/v1/environments/${await resolveEnvironment(client, envOf(arg, o), o)}/backups`,
      ),
      columns,
    )
  })
  cmd
    .command('download <id>')
    .description('save the encrypted archive (export)')
    .requiredOption('-o, --output <file>', 'where to write it')
    .action(async (id: string, o: { output: string }, c: Command) => {
      const res = await createClient().raw('GET', `/v1/backups/${encodeURIComponent(id)}/download`)
      if (!res.ok || !res.body) {
        const err = ((await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } })
          .error
        throw new ApiError(
          res.status,
          err?.code ?? `http_${res.status}`,
          err?.message ?? 'download failed',
          res.headers.get('x-request-id') ?? undefined,
        )
      }
      await pipeline(
        Readable.fromWeb(res.body as WebReadableStream<Uint8Array>),
        createWriteStream(o.output, { mode: 0o600 }),
      )
      done(c, `Saved ${id} to ${o.output}.`)
    })
  cmd
    .command('restore <id>')
    .description(
      'verify the whole archive, then replace the services’ data and persistent directories with it',
    )
    .action(async (id: string, _o: unknown, c: Command) => {
      const b = await createClient().request<Backup>('POST', `/v1/backups/${encodeURIComponent(id)}/restore`)
      done(c, `Restored ${b.id}.`, b)
    })
  cmd.command('delete <id>').action(async (id: string, _o: unknown, c: Command) => {
    await createClient().request('DELETE', `/v1/backups/${encodeURIComponent(id)}`)
    done(c, `Deleted backup ${id}.`)
  })
  within(
    cmd
      .command('import <env> <file>')
      .description(
        'upload an archive as downloaded (from this or another environment / installation sharing the master key); it is verified whole, then listed as a backup to restore',
      ),
  ).action(async (envRef: string, file: string, o: Scope, c: Command) => {
    if (!existsSync(file) || !statSync(file).isFile()) throw new UsageError(`${file} is not a file`)
    const client = createClient()
    const env = await resolveEnvironment(client, envRef, o)
    const res = await client.upload('POST', `/v1/environments/${env}/backups/import`, file)
    const text = await res.text()
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      parsed = undefined
    }
    if (!res.ok) {
      const err = (parsed as { error?: { code?: string; message?: string; requestId?: string } } | undefined)
        ?.error
      throw new ApiError(
        res.status,
        err?.code ?? `http_${res.status}`,
        err?.message ?? 'import failed',
        err?.requestId ?? res.headers.get('x-request-id') ?? undefined,
      )
    }
    const b = parsed as Backup
    done(
      c,
      `Imported ${file} as backup ${b.id}${b.sourceEnvironmentId ? ` (made in ${b.sourceEnvironmentId})` : ''}; restore it with: palisade backup restore ${b.id}`,
      b,
    )
  })
  within(
    cmd
      .command('schedule <env>')
      .description(
        'show or set scheduled backups: every H hours, keeping the newest N (manual and imported backups are never pruned)',
      ),
  )
    .option('--every <hours>', 'hours between backups (1–168)')
    .option('--keep <n>', 'scheduled backups to keep (1–100)')
    .option('--files', 'include the persistent directories')
    .option('--no-files', 'leave the persistent directories out')
    .option('--disable', 'stop scheduled backups (existing ones stay)')
    .action(
      async (
        envRef: string,
        o: Scope & { every?: string; keep?: string; files?: boolean; disable?: boolean },
        c: Command,
      ) => {
        const client = createClient()
        const env = await resolveEnvironment(client, envRef, o)
        const url = `/v1/environments/${env}/backup-schedule`
        let s = await client.request<Schedule>('GET', url)
        const int = (v: string | undefined, name: string): number | undefined => {
          if (v === undefined) return undefined
          if (!/^[0-9]{1,4}$/.test(v)) throw new UsageError(`--${name} takes a whole number`)
          return Number(v)
        }
        const every = int(o.every, 'every')
        const keep = int(o.keep, 'keep')
        const changing =
          every !== undefined || keep !== undefined || o.files !== undefined || o.disable === true
        if (changing) {
          s = await client.request<Schedule>('PUT', url, {
            enabled: o.disable !== true,
            everyHours: every ?? s.everyHours,
            keep: keep ?? s.keep,
            files: o.files ?? s.files,
          })
        }
        const summary = s.enabled
          ? `Backups every ${s.everyHours} h, keeping ${s.keep}${s.files ? ', with files' : ', without files'}; next at ${s.nextRunAt ?? '—'}.`
          : 'Scheduled backups are off.'
        const last = s.lastRunAt
          ? ` Last run ${s.lastRunAt}: ${s.lastError ? `failed (${s.lastError})` : (s.lastBackupId ?? 'ok')}.`
          : ''
        done(c, summary + last, s)
      },
    )
  return cmd
}
