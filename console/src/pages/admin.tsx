import { useState } from 'preact/hooks'
import { api, ok } from '../api/client'
import { atLeast, useSession } from '../session'
import { ErrorNote, Field, Show, useAction, useLoad, When } from '../ui'
import { useRole, WorkspaceNav } from './workspaces'

const ROLES = ['viewer', 'developer', 'admin', 'owner'] as const

export function Members({ ws }: { ws: string }) {
  const role = useRole(ws)
  const members = useLoad(
    () => ok(api.GET('/v1/workspaces/{ws}/members', { params: { path: { ws } } })),
    [ws],
  )
  const invitations = useLoad(
    () =>
      atLeast(role, 'admin')
        ? ok(api.GET('/v1/workspaces/{ws}/invitations', { params: { path: { ws } } }))
        : Promise.resolve({ items: [], nextCursor: null }),
    [ws, role],
  )
  const [email, setEmail] = useState('')
  const [newRole, setNewRole] = useState<(typeof ROLES)[number]>('developer')
  const [sent, setSent] = useState<string | null>(null)
  const invite = useAction(async () => {
    await ok(
      api.POST('/v1/workspaces/{ws}/members', { params: { path: { ws } }, body: { email, role: newRole } }),
    )
    setSent(`Invitation sent to ${email}.`)
    setEmail('')
    invitations.reload()
  })
  return (
    <main id="main">
      <h1>Members of {ws}</h1>
      <WorkspaceNav ws={ws} here="members" />
      <Show load={members}>
        {(page) => (
          <table>
            <thead>
              <tr>
                <th scope="col">E-mail</th>
                <th scope="col">Role</th>
                <th scope="col">2FA</th>
                <th scope="col">Since</th>
              </tr>
            </thead>
            <tbody>
              {page.items.map((m) => (
                <tr key={m.userId}>
                  <td>{m.email}</td>
                  <td>{m.role}</td>
                  <td>{m.totpEnabled ? 'on' : 'off'}</td>
                  <td>
                    <When iso={m.createdAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Show>
      {atLeast(role, 'admin') ? (
        <>
          <h2>Pending invitations</h2>
          <Show load={invitations}>
            {(page) =>
              page.items.length === 0 ? (
                <p class="muted">None.</p>
              ) : (
                <ul>
                  {page.items.map((i) => (
                    <li key={i.id}>
                      {i.email} as {i.role}, valid until <When iso={i.expiresAt} />
                    </li>
                  ))}
                </ul>
              )
            }
          </Show>
          <form
            class="panel inline"
            onSubmit={(e) => {
              e.preventDefault()
              void invite.run()
            }}
          >
            <Field
              label="E-mail"
              name="email"
              type="email"
              value={email}
              onInput={setEmail}
              required
              error={invite.error}
            />
            <div class="field">
              <label for="f-role">Role</label>
              <select
                id="f-role"
                value={newRole}
                onChange={(e) => setNewRole(e.currentTarget.value as (typeof ROLES)[number])}
              >
                {ROLES.map((r) => (
                  <option key={r} value={r}>
                    {r}
                  </option>
                ))}
              </select>
            </div>
            <button type="submit" disabled={invite.busy}>
              Invite
            </button>
            <ErrorNote error={invite.error} />
            {sent ? <p role="status">{sent}</p> : null}
          </form>
        </>
      ) : null}
    </main>
  )
}

export function Tokens({ ws }: { ws: string }) {
  const load = useLoad(() => ok(api.GET('/v1/me/tokens')), [])
  const [name, setName] = useState('')
  const [scopes, setScopes] = useState<Array<'read' | 'write' | 'deploy' | 'admin'>>(['read'])
  const [days, setDays] = useState('30')
  const [shown, setShown] = useState<string | null>(null)
  const create = useAction(async () => {
    const t = await ok(api.POST('/v1/me/tokens', { body: { name, scopes, expiresInDays: Number(days) } }))
    setShown(t.token)
    setName('')
    load.reload()
  })
  const revoke = useAction(async (id: string) => {
    await ok(api.DELETE('/v1/me/tokens/{id}', { params: { path: { id } } }))
    load.reload()
  })
  return (
    <main id="main">
      <h1>API tokens</h1>
      <WorkspaceNav ws={ws} here="tokens" />
      {shown ? (
        <div class="notice" role="status">
          <p>Your new token, shown once: copy it now.</p>
          <p class="mono secret-once">{shown}</p>
          <button type="button" onClick={() => setShown(null)}>
            I have copied it
          </button>
        </div>
      ) : null}
      <Show load={load}>
        {(page) => (
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Scopes</th>
                <th scope="col">Expires</th>
                <th scope="col">Last used</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {page.items.map((t) => (
                <tr key={t.id}>
                  <td>{t.name}</td>
                  <td>{t.scopes.join(', ')}</td>
                  <td>
                    <When iso={t.expiresAt} />
                  </td>
                  <td>
                    <When iso={t.lastUsedAt} />
                  </td>
                  <td>
                    <button
                      type="button"
                      class="link"
                      onClick={() => void revoke.run(t.id)}
                      aria-label={`Revoke ${t.name}`}
                    >
                      Revoke
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Show>
      <ErrorNote error={revoke.error} />
      <form
        class="panel"
        onSubmit={(e) => {
          e.preventDefault()
          void create.run()
        }}
      >
        <h2>New token</h2>
        <Field label="Name" name="name" value={name} onInput={setName} required error={create.error} />
        <fieldset>
          <legend>Scopes</legend>
          {(['read', 'write', 'deploy', 'admin'] as const).map((s) => (
            <label key={s} class="check">
              <input
                type="checkbox"
                checked={scopes.includes(s)}
                onChange={(e) =>
                  setScopes((cur) => (e.currentTarget.checked ? [...cur, s] : cur.filter((x) => x !== s)))
                }
              />{' '}
              {s}
            </label>
          ))}
        </fieldset>
        <Field
          label="Expires in (days)"
          name="expiresInDays"
          type="number"
          value={days}
          onInput={setDays}
          required
          error={create.error}
        />
        <ErrorNote error={create.error} />
        <button type="submit" disabled={create.busy}>
          Create token
        </button>
      </form>
    </main>
  )
}

export function Audit({ ws }: { ws: string }) {
  const [cursor, setCursor] = useState<string | undefined>(undefined)
  const [history, setHistory] = useState<string[]>([])
  const [action, setAction] = useState('')
  const [filter, setFilter] = useState('')
  const events = useLoad(
    () =>
      ok(
        api.GET('/v1/workspaces/{ws}/audit-events', {
          params: {
            path: { ws },
            query: { limit: 50, ...(cursor ? { cursor } : {}), ...(filter ? { action: filter } : {}) },
          },
        }),
      ),
    [ws, cursor, filter],
  )
  const verify = useLoad(
    () => ok(api.GET('/v1/workspaces/{ws}/audit-verification', { params: { path: { ws } } })),
    [ws],
  )
  return (
    <main id="main">
      <h1>Audit log of {ws}</h1>
      <WorkspaceNav ws={ws} here="audit" />
      <Show load={verify}>
        {(v) =>
          v.ok ? (
            <p class="ok" role="status" data-testid="audit-verified">
              Chain verified up to event {v.headSeq}
              {v.headAt ? (
                <>
                  {' '}
                  at <When iso={v.headAt} />
                </>
              ) : null}{' '}
              ({v.count} events, {v.checkpoints} signed checkpoints).
            </p>
          ) : (
            <p class="error" role="alert" data-testid="audit-verified">
              Chain broken at event {v.firstBad?.seq}: {v.firstBad?.reason}
            </p>
          )
        }
      </Show>
      <form
        class="inline"
        onSubmit={(e) => {
          e.preventDefault()
          setCursor(undefined)
          setHistory([])
          setFilter(action.trim())
        }}
      >
        <Field label="Action (e.g. environment.* )" name="action" value={action} onInput={setAction} />
        <button type="submit">Filter</button>
      </form>
      <Show load={events}>
        {(page) => (
          <>
            <table data-testid="audit-table">
              <thead>
                <tr>
                  <th scope="col">Seq</th>
                  <th scope="col">At</th>
                  <th scope="col">Actor</th>
                  <th scope="col">Action</th>
                  <th scope="col">Target</th>
                  <th scope="col">Outcome</th>
                </tr>
              </thead>
              <tbody>
                {page.items.map((e) => (
                  <tr key={e.id}>
                    <td>{e.seq}</td>
                    <td>
                      <When iso={e.at} />
                    </td>
                    <td>{e.actor.email ?? `${e.actor.type} ${e.actor.id}`}</td>
                    <td class="mono">{e.action}</td>
                    <td class="mono">
                      {e.target.type} {e.target.id}
                    </td>
                    <td>{e.outcome}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <p class="buttons">
              <button
                type="button"
                disabled={history.length === 0}
                onClick={() => {
                  const prev = history.slice(0, -1)
                  setCursor(history[history.length - 2])
                  setHistory(prev)
                }}
              >
                Previous page
              </button>
              <button
                type="button"
                disabled={!page.nextCursor}
                onClick={() => {
                  if (!page.nextCursor) return
                  setHistory([...history, page.nextCursor])
                  setCursor(page.nextCursor)
                }}
              >
                Next page
              </button>
            </p>
          </>
        )}
      </Show>
    </main>
  )
}

const INCIDENT_ACTIONS = [
  ['restrict', 'Restrict every environment (maintenance for good)'],
  ['revoke-credentials', 'Revoke all sessions and API tokens'],
  ['require-mfa', 'Require two-factor authentication'],
  ['notify', 'Notify all members by e-mail'],
] as const

export function Incident({ ws }: { ws: string }) {
  const { user } = useSession()
  const [actions, setActions] = useState<Array<(typeof INCIDENT_ACTIONS)[number][0]>>(['notify'])
  const [reason, setReason] = useState('')
  const [typed, setTyped] = useState('')
  const [done, setDone] = useState<string | null>(null)
  const declare = useAction(async () => {
    const r = await ok(
      api.POST('/v1/workspaces/{ws}/incidents', { params: { path: { ws } }, body: { actions, reason } }),
    )
    setDone(
      `Incident declared: ${r.restrictedEnvironments} environments restricted, ${r.revokedSessions} sessions and ${r.revokedTokens} tokens revoked, ${r.notified} people notified.`,
    )
  })
  return (
    <main id="main">
      <h1>Declare an incident in {ws}</h1>
      <WorkspaceNav ws={ws} here="incident" />
      {done ? (
        <p class="notice" role="status" data-testid="incident-done">
          {done}
        </p>
      ) : (
        <form
          class="panel danger"
          onSubmit={(e) => {
            e.preventDefault()
            void declare.run()
          }}
        >
          <fieldset>
            <legend>What to do</legend>
            {INCIDENT_ACTIONS.map(([key, label]) => (
              <label key={key} class="check">
                <input
                  type="checkbox"
                  name={key}
                  checked={actions.includes(key)}
                  onChange={(e) =>
                    setActions((cur) =>
                      e.currentTarget.checked ? [...cur, key] : cur.filter((x) => x !== key),
                    )
                  }
                />{' '}
                {label}
              </label>
            ))}
          </fieldset>
          <Field
            label="Reason"
            name="reason"
            value={reason}
            onInput={setReason}
            required
            error={declare.error}
          />
          <Field
            label={`Type the workspace name (${ws}) to confirm`}
            name="confirm"
            value={typed}
            onInput={setTyped}
            required
          />
          <ErrorNote error={declare.error} />
          <button
            type="submit"
            class="danger"
            disabled={declare.busy || typed !== ws || actions.length === 0}
          >
            Declare incident
          </button>
          <p class="muted">Signed in as {user.email}; this is recorded in the audit log.</p>
        </form>
      )}
    </main>
  )
}
