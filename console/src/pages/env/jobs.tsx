import { useState } from 'preact/hooks'
import { api, ok } from '../../api/client'
import { usePoll } from '../../poll'
import { ErrorNote, Field, Form, StatusBadge, useAction } from '../../ui'

type JobType = 'restart' | 'flush-cache' | 'maintenance-on' | 'maintenance-off' | 'command'

/** Jobs: the one-click ones and a command run in the current release, followed until it ends, with its output. */
export function Jobs({ id }: { id: string }) {
  const [job, setJob] = useState<string | null>(null)
  const [command, setCommand] = useState('')
  const run = useAction(async (type: JobType) => {
    const j = await ok(
      api.POST('/v1/environments/{id}/jobs', {
        params: { path: { id } },
        body: type === 'command' ? { type, command } : { type },
      }),
    )
    setJob(j.id)
  })
  return (
    <section aria-labelledby="jobs-h">
      <h2 id="jobs-h">Jobs</h2>
      <p class="buttons">
        <button type="button" onClick={() => void run.run('restart')} disabled={run.busy}>
          Restart
        </button>
        <button type="button" onClick={() => void run.run('flush-cache')} disabled={run.busy}>
          Flush cache
        </button>
        <button type="button" onClick={() => void run.run('maintenance-on')} disabled={run.busy}>
          Maintenance on
        </button>
        <button type="button" onClick={() => void run.run('maintenance-off')} disabled={run.busy}>
          Maintenance off
        </button>
      </p>
      <Form class="panel inline" onSubmit={() => void run.run('command')} label="Run a command">
        <Field
          label="Command (run in the current release)"
          name="command"
          value={command}
          onInput={setCommand}
          required
          error={run.error}
        />
        <button type="submit" disabled={run.busy}>
          Run command
        </button>
      </Form>
      <ErrorNote error={run.error} />
      {job ? <JobProgress key={job} id={job} /> : null}
    </section>
  )
}

/** Follows one job until it ends, then shows its output (developers and up may read it; see src/iam/roles.ts). */
function JobProgress({ id }: { id: string }) {
  const [output, setOutput] = useState<string | null>(null)
  const { value: job, error } = usePoll(
    () => ok(api.GET('/v1/jobs/{id}', { params: { path: { id } } })),
    (j) => j.status === 'queued' || j.status === 'running',
    async (_j, live) => {
      const r = await api.GET('/v1/jobs/{id}/logs', {
        params: { path: { id }, query: { format: 'text' } },
        parseAs: 'text',
      })
      if (live() && r.response.ok && typeof r.data === 'string') setOutput(r.data)
    },
    [id],
    700,
  )
  return (
    <div class="panel" data-testid="job-result">
      <p role="status">
        {job ? (
          <>
            {job.type}
            {job.command ? <span class="mono"> {job.command}</span> : null}:{' '}
            <StatusBadge status={job.status} />
            {job.exitCode !== null ? ` exit code ${job.exitCode}` : ''}
            {job.reason ? ` — ${job.reason}` : ''}
          </>
        ) : (
          'Starting…'
        )}
      </p>
      {output ? (
        <pre class="log" tabIndex={0} aria-label="Job output" data-testid="job-output">
          {output}
        </pre>
      ) : null}
      <ErrorNote error={error} />
    </div>
  )
}
