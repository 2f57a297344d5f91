import { Command } from 'commander'
import { ApiError, createClient } from '../client.js'
import { done, print, wantsJson } from '../output.js'
import { resolveEnvironment } from '../resolve.js'
import { streamLog, withScope, type EnvScope } from './deploy.js'

interface Job {
  id: string
  type: string
  command: string | null
  status: string
  exitCode: number | null
  reason: string | null
  createdAt: string
}

const TYPES = ['restart', 'flush-cache', 'maintenance-on', 'maintenance-off', 'command']

export function jobsCommand(): Command {
  const cmd = new Command('jobs').description(
    'restart, flush-cache, maintenance-on/off, or a one-off command',
  )
  withScope(cmd.command('run <env> <type> [command...]'))
    .description(`run a job (${TYPES.join(', ')}); for "command" the rest of the line is the command`)
    .option('--no-wait', 'return once the job is accepted')
    .action(
      async (env: string, type: string, words: string[], o: EnvScope & { wait: boolean }, c: Command) => {
        const client = createClient()
        const id = await resolveEnvironment(client, env, o)
        const body = type === 'command' ? { type, command: words.join(' ') } : { type }
        const job = await client.request<Job>('POST', `/v1/environments/${id}/jobs`, body)
        if (!o.wait) return done(c, `Job ${job.id} accepted.`, job)
        if (!wantsJson(c)) await streamLog(client, `/v1/jobs/${job.id}/logs`)
        let final = await client.request<Job>('GET', `/v1/jobs/${job.id}`)
        while (final.status === 'queued' || final.status === 'running') {
          await new Promise((r) => setTimeout(r, 500))
          final = await client.request<Job>('GET', `/v1/jobs/${job.id}`)
        }
        if (final.status === 'failed')
          throw new ApiError(0, 'job_failed', `job failed: ${final.reason ?? ''}`, undefined)
        done(c, `Job ${final.type} succeeded.`, final)
      },
    )
  withScope(cmd.command('list <env>')).action(async (env: string, o: EnvScope, c: Command) => {
    const client = createClient()
    const id = await resolveEnvironment(client, env, o)
    print(c, await client.request<{ items: Job[] }>('GET', `/v1/environments/${id}/jobs`), [
      ['id', (j: Job) => j.id],
      ['type', (j: Job) => j.type],
      ['status', (j: Job) => j.status],
      ['exit', (j: Job) => j.exitCode],
      ['created', (j: Job) => j.createdAt],
      ['reason', (j: Job) => j.reason],
    ])
  })
  return cmd
}
