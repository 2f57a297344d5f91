import { useState } from 'preact/hooks'
import { api, ApiError, ok } from '../../api/client'
import { mayOn } from '../../session'
import { ErrorNote, Field, Form, Show, useAction, useLoad, When } from '../../ui'
import type { EnvTabProps } from './types'

/** The runtime update plan (what SemVer policy will install, and when) and its postponement. */
export function Runtime({ env, role }: EnvTabProps) {
  const id = env.id
  const load = useLoad(
    () => ok(api.GET('/v1/environments/{id}/runtime-updates', { params: { path: { id } } })),
    [id],
  )
  const canPostpone = mayOn(role, 'developer', env.criticality)
  const [until, setUntil] = useState('')
  const postpone = useAction(async (value: string | null) => {
    if (value !== null && !/^\d{4}-\d{2}-\d{2}$/.test(value))
      throw new ApiError(
        400,
        {
          code: 'invalid',
          message: 'until must be a date',
          details: [{ field: 'until', message: 'must look like 2027-01-15' }],
        },
        'invalid',
      )
    // A date typed in the page is local midnight; the API takes an instant.
    const iso = value === null ? null : new Date(`${value}T00:00:00`).toISOString()
    await ok(
      api.POST('/v1/environments/{id}/runtime-updates/postpone', {
        params: { path: { id } },
        body: { until: iso },
      }),
    )
    setUntil('')
    load.reload()
  })
  return (
    <section aria-labelledby="runtime-h">
      <h2 id="runtime-h">Runtime updates</h2>
      <Show load={load}>
        {(p) => (
          <>
            <dl class="facts" data-testid="runtime-state">
              <dt>Runtime</dt>
              <dd class="mono">{p.setting}</dd>
              <dt>Installed</dt>
              <dd class="mono">{p.current ?? '–'}</dd>
              <dt>Next version</dt>
              <dd class="mono">{p.target ?? '–'}</dd>
              <dt>Postponed until</dt>
              <dd data-testid="postponed-until">
                {p.postponedUntil ? <When iso={p.postponedUntil} /> : 'not postponed'}
              </dd>
              {p.updating ? (
                <>
                  <dt>Updating</dt>
                  <dd class="mono">{p.updating}</dd>
                </>
              ) : null}
              {p.retryAfter ? (
                <>
                  <dt>Retry after</dt>
                  <dd>
                    <When iso={p.retryAfter} />
                  </dd>
                </>
              ) : null}
            </dl>
            {p.steps.length === 0 ? (
              <p class="muted">Nothing planned.</p>
            ) : (
              <table data-testid="runtime-steps">
                <caption>Plan</caption>
                <thead>
                  <tr>
                    <th scope="col">Kind</th>
                    <th scope="col">Version</th>
                    <th scope="col">Due</th>
                    <th scope="col">Why</th>
                  </tr>
                </thead>
                <tbody>
                  {p.steps.map((s, i) => (
                    <tr key={i}>
                      <td>
                        {s.kind}
                        {s.postponed ? ' (postponed)' : ''}
                      </td>
                      <td class="mono">{s.version ?? '–'}</td>
                      <td>
                        <When iso={s.due} />
                      </td>
                      <td>{s.reason}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            {p.eol ? (
              <p class={p.eol.status === 'reached' ? 'error' : 'notice'}>
                Major {p.eol.major} {p.eol.status === 'reached' ? 'reached' : 'reaches'} its end of life on{' '}
                {p.eol.date}. Options: {p.eol.options.join(', ')}.
              </p>
            ) : null}
            {p.notices.map((n, i) => (
              <p key={i} class="notice">
                {n}
              </p>
            ))}
            {canPostpone ? (
              <Form class="panel inline" onSubmit={() => void postpone.run(until)} label="Postpone updates">
                <Field
                  label="Postpone updates until (YYYY-MM-DD)"
                  name="until"
                  value={until}
                  onInput={setUntil}
                  placeholder="2027-01-15"
                  required
                  error={postpone.error}
                />
                <button type="submit" disabled={postpone.busy}>
                  Postpone
                </button>
                {p.postponedUntil ? (
                  <button type="button" disabled={postpone.busy} onClick={() => void postpone.run(null)}>
                    Lift the postponement
                  </button>
                ) : null}
                <ErrorNote error={postpone.error} />
              </Form>
            ) : null}
          </>
        )}
      </Show>
    </section>
  )
}
