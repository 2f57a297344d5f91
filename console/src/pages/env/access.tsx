import { useState } from 'preact/hooks'
import { api, ApiError, ok } from '../../api/client'
import type { paths } from '../../api/schema'
import { atLeast, mayOn } from '../../session'
import { Checkbox, ErrorNote, Field, Form, lines, Show, TextArea, useAction, useLoad } from '../../ui'
import type { EnvTabProps } from './types'

type Access = paths['/v1/environments/{id}/access']['get']['responses'][200]['content']['application/json']

/** Who may reach the environment through the edge: IP allow list and groups, a password, maintenance. */
export function AccessTab({ env, role }: EnvTabProps) {
  const id = env.id
  const load = useLoad(() => ok(api.GET('/v1/environments/{id}/access', { params: { path: { id } } })), [id])
  const groups = useLoad(
    () => ok(api.GET('/v1/workspaces/{ws}/ip-groups', { params: { path: { ws: env.workspaceId } } })),
    [env.workspaceId],
  )
  const canManage = atLeast(role, 'admin')
  return (
    <>
      <section aria-labelledby="access-h">
        <h2 id="access-h">Access</h2>
        <Show load={load}>
          {(a) => (
            <>
              <dl class="facts" data-testid="access-state">
                <dt>IP allow list</dt>
                <dd class="mono">{a.ipAllow.length ? a.ipAllow.join(', ') : 'anyone'}</dd>
                <dt>IP groups</dt>
                <dd>
                  {a.ipGroups.length
                    ? a.ipGroups.map((g) => groups.data?.items.find((x) => x.id === g)?.name ?? g).join(', ')
                    : 'none'}
                </dd>
                <dt>Password</dt>
                <dd>{a.password ? `on (user ${a.password.username})` : 'off'}</dd>
              </dl>
              {canManage ? (
                <AccessForm
                  key={JSON.stringify(a)}
                  id={id}
                  access={a}
                  groups={groups.data?.items ?? []}
                  onSaved={load.reload}
                />
              ) : null}
            </>
          )}
        </Show>
      </section>
      <Maintenance id={id} canRun={mayOn(role, 'developer', env.criticality)} />
    </>
  )
}

/** Two lists hold the same entries (order aside). */
const sameSet = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n')

/** A field's mistake found before anything is sent, shown beside the field like the API's own. */
const fieldError = (field: string, message: string) =>
  new ApiError(400, { code: 'invalid', message, details: [{ field, message }] }, 'invalid')

/**
 * Sends only what the person changed (PATCH): saving IP rules never needs the site password again, because a
 * password left out is kept by the server; it is sent only to turn protection on or to change it.
 */
function AccessForm(props: {
  id: string
  access: Access
  groups: ReadonlyArray<{ id: string; name: string; cidrs: string[] }>
  onSaved: () => void
}) {
  const had = props.access.password
  const [allow, setAllow] = useState(props.access.ipAllow.join('\n'))
  const [chosen, setChosen] = useState<string[]>(props.access.ipGroups)
  const [protect, setProtect] = useState(had !== null)
  const [username, setUsername] = useState(had?.username ?? '')
  const [password, setPassword] = useState('')
  const [unchanged, setUnchanged] = useState(false)
  // The password is sent only when protection is turned on or off or a new one is typed; left out, it is kept.
  const passwordPart = (): { password?: { username: string; password: string } | null } => {
    if (!protect) return had ? { password: null } : {}
    if (password !== '') return { password: { username, password } }
    if (had === null) throw fieldError('password.password', 'is required to turn password protection on')
    if (username !== had.username)
      throw fieldError('password.password', 'is required again to change the user name')
    return {}
  }
  const save = useAction(async () => {
    setUnchanged(false)
    const ipAllow = lines(allow)
    const body = {
      ...(sameSet(ipAllow, props.access.ipAllow) ? {} : { ipAllow }),
      ...(sameSet(chosen, props.access.ipGroups) ? {} : { ipGroups: chosen }),
      ...passwordPart(),
    }
    if (Object.keys(body).length === 0) return setUnchanged(true)
    await ok(api.PATCH('/v1/environments/{id}/access', { params: { path: { id: props.id } }, body }))
    props.onSaved()
  })
  return (
    <Form class="panel" onSubmit={() => void save.run()} label="Access rules">
      <TextArea
        label="Allowed addresses (CIDR, one a line; empty: anyone)"
        name="ipAllow"
        value={allow}
        onInput={setAllow}
        error={save.error}
      />
      <fieldset>
        <legend>IP groups</legend>
        {props.groups.length === 0 ? <p class="muted">The workspace has no IP groups.</p> : null}
        {props.groups.map((g) => (
          <Checkbox
            key={g.id}
            name={`group-${g.id}`}
            label={`${g.name} (${g.cidrs.join(', ')})`}
            checked={chosen.includes(g.id)}
            onChange={(on) => setChosen((cur) => (on ? [...cur, g.id] : cur.filter((x) => x !== g.id)))}
          />
        ))}
      </fieldset>
      <Checkbox
        label="Password protection (HTTP Basic)"
        name="protect"
        checked={protect}
        onChange={setProtect}
      />
      {protect ? (
        <>
          <Field
            label="User name"
            name="password.username"
            value={username}
            onInput={setUsername}
            required
            error={save.error}
          />
          <Field
            label={had ? 'Site password (empty: keep the current one)' : 'Site password'}
            name="password.password"
            type="password"
            autocomplete="new-password"
            value={password}
            onInput={setPassword}
            required={had === null}
            error={save.error}
          />
        </>
      ) : null}
      <ErrorNote error={save.error} />
      {unchanged ? (
        <p class="muted" role="status">
          Nothing to save: no rule was changed.
        </p>
      ) : null}
      <button type="submit" disabled={save.busy}>
        Save access rules
      </button>
    </Form>
  )
}

function Maintenance({ id, canRun }: { id: string; canRun: boolean }) {
  const status = useLoad(
    () => ok(api.GET('/v1/environments/{id}/status', { params: { path: { id } } })),
    [id],
  )
  const run = useAction(async (type: 'maintenance-on' | 'maintenance-off') => {
    await ok(api.POST('/v1/environments/{id}/jobs', { params: { path: { id } }, body: { type } }))
    // The job runs in the background: read the state again shortly.
    setTimeout(status.reload, 800)
  })
  return (
    <section aria-labelledby="maint-h">
      <h2 id="maint-h">Maintenance</h2>
      <Show load={status}>
        {(s) => (
          <p data-testid="maintenance-state">
            Maintenance mode is <strong>{s.maintenance ? 'on' : 'off'}</strong>
            {s.maintenance ? ': visitors see the maintenance page.' : '.'}
          </p>
        )}
      </Show>
      {canRun ? (
        <p class="buttons">
          <button type="button" onClick={() => void run.run('maintenance-on')} disabled={run.busy}>
            Turn maintenance on
          </button>
          <button type="button" onClick={() => void run.run('maintenance-off')} disabled={run.busy}>
            Turn maintenance off
          </button>
          <button type="button" class="link" onClick={status.reload}>
            Refresh state
          </button>
        </p>
      ) : null}
      <ErrorNote error={run.error} />
    </section>
  )
}
