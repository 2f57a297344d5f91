import { useState } from 'preact/hooks'
import { api, ApiError, ok } from '../api/client'
import { atLeast, useSession, type Role } from '../session'
import { ErrorNote, Field, Form, PagedTable, Select, Show, useAction, useLoad, When } from '../ui'
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
  const { user } = useSession()
  const [changed, setChanged] = useState<string | null>(null)
  const changeRole = useAction(async (userId: string, r: Role) => {
    const m = await ok(
      api.PATCH('/v1/workspaces/{ws}/members/{userId}', {
        params: { path: { ws, userId } },
        body: { role: r },
      }),
    )
    setChanged(`${m.email} is now ${m.role}.`)
    members.reload()
  })
  return (
    <main id="main">
      <h1>Members of {ws}</h1>
      <WorkspaceNav ws={ws} here="members" />
      <PagedTable
        load={members}
        label="Members"
        empty="No members."
        columns={['E-mail', 'Role', '2FA', 'Since', atLeast(role, 'admin') && 'Actions']}
        rowKey={(m) => m.userId}
        row={(m, ask) => (
          <tr>
            <td>{m.email}</td>
            <td>
              {atLeast(role, 'admin') && m.userId !== user.id ? (
                <RoleSelect
                  email={m.email}
                  role={m.role as Role}
                  // Only an owner hands out or takes away ownership (the server decides the same).
                  choices={ROLES.filter((r) => r !== 'owner' || role === 'owner')}
                  disabled={changeRole.busy || (m.role === 'owner' && role !== 'owner')}
                  onChange={(r) => void changeRole.run(m.userId, r)}
                />
              ) : (
                m.role
              )}
            </td>
            <td>{m.totpEnabled ? 'on' : 'off'}</td>
            <td>
              <When iso={m.createdAt} />
            </td>
            {atLeast(role, 'admin') ? (
              <td>
                {m.userId !== user.id && (m.role !== 'owner' || role === 'owner') ? (
                  <button type="button" class="link" onClick={ask} aria-label={`Remove ${m.email}`}>
                    Remove
                  </button>
                ) : null}
              </td>
            ) : null}
          </tr>
        )}
        confirm={{
          word: (m) => m.email,
          label: (m) => `Remove ${m.email} from ${ws}`,
          button: 'Remove the member',
          run: async (m) => {
            await ok(
              api.DELETE('/v1/workspaces/{ws}/members/{userId}', {
                params: { path: { ws, userId: m.userId } },
              }),
            )
            members.reload()
          },
        }}
      />
      {changed ? <p role="status">{changed}</p> : null}
      <ErrorNote error={changeRole.error} />
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
          <Form class="panel inline" onSubmit={() => void invite.run()} label="Invite a member">
            <Field
              label="E-mail"
              name="email"
              type="email"
              value={email}
              onInput={setEmail}
              required
              error={invite.error}
            />
            <Select
              label="Role"
              name="role"
              value={newRole}
              options={ROLES.filter((r) => r !== 'owner' || role === 'owner')}
              onChange={setNewRole}
              error={invite.error}
            />
            <button type="submit" disabled={invite.busy}>
              Invite
            </button>
            <ErrorNote error={invite.error} />
            {sent ? <p role="status">{sent}</p> : null}
          </Form>
        </>
      ) : null}
    </main>
  )
}

function RoleSelect(props: {
  email: string
  role: Role
  choices: readonly Role[]
  disabled: boolean
  onChange: (r: Role) => void
}) {
  const choices = props.choices.includes(props.role) ? props.choices : [props.role, ...props.choices]
  return (
    <select
      aria-label={`Role of ${props.email}`}
      value={props.role}
      disabled={props.disabled}
      onChange={(e) => props.onChange(e.currentTarget.value as Role)}
    >
      {choices.map((r) => (
        <option key={r} value={r}>
          {r}
        </option>
      ))}
    </select>
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

interface AuditFilter {
  action?: string
  actor?: string
  since?: string
  until?: string
}

/** A typed day (YYYY-MM-DD) as the instant the API filters on: the start of that day, or of the next one. */
function dayToIso(day: string, end: boolean): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return undefined
  const d = new Date(`${day}T00:00:00`)
  if (Number.isNaN(d.getTime())) return undefined
  if (end) d.setDate(d.getDate() + 1)
  return d.toISOString()
}

const EXPORT_PAGES = 200 // × 1,000 events: a bound on what one browser tab holds in memory.

/** Every event matching the filter, as JSON Lines (what `palisade audit export` writes), saved as a file. */
async function exportAudit(ws: string, filter: AuditFilter): Promise<number> {
  const lines: string[] = []
  let cursor: string | undefined
  for (let i = 0; i < EXPORT_PAGES; i++) {
    const page = await ok(
      api.GET('/v1/workspaces/{ws}/audit-events', {
        params: { path: { ws }, query: { ...filter, limit: 1000, ...(cursor ? { cursor } : {}) } },
      }),
    )
    for (const e of page.items) lines.push(JSON.stringify(e))
    if (!page.nextCursor) break
    cursor = page.nextCursor
  }
  const url = URL.createObjectURL(new Blob([lines.join('\n') + '\n'], { type: 'application/x-ndjson' }))
  const a = document.createElement('a')
  a.href = url
  a.download = `audit-${ws}.jsonl`
  document.body.append(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
  return lines.length
}

export function Audit({ ws }: { ws: string }) {
  const [cursor, setCursor] = useState<string | undefined>(undefined)
  const [history, setHistory] = useState<string[]>([])
  const [action, setAction] = useState('')
  const [actor, setActor] = useState('')
  const [since, setSince] = useState('')
  const [until, setUntil] = useState('')
  const [filter, setFilter] = useState<AuditFilter>({})
  const [filterError, setFilterError] = useState<unknown>(undefined)
  const events = useLoad(
    () =>
      ok(
        api.GET('/v1/workspaces/{ws}/audit-events', {
          params: {
            path: { ws },
            query: { limit: 50, ...(cursor ? { cursor } : {}), ...filter },
          },
        }),
      ),
    [ws, cursor, JSON.stringify(filter)],
  )
  const verify = useLoad(
    () => ok(api.GET('/v1/workspaces/{ws}/audit-verification', { params: { path: { ws } } })),
    [ws],
  )
  const [exported, setExported] = useState<string | null>(null)
  const doExport = useAction(async () => {
    const n = await exportAudit(ws, filter)
    setExported(`Exported ${n} events as audit-${ws}.jsonl.`)
  })
  const applyFilter = () => {
    const f: AuditFilter = {}
    const bad: Array<{ field: string; message: string }> = []
    if (action.trim()) f.action = action.trim()
    if (actor.trim()) f.actor = actor.trim()
    if (since.trim()) {
      const v = dayToIso(since.trim(), false)
      if (v) f.since = v
      else bad.push({ field: 'since', message: 'must look like 2026-12-01' })
    }
    if (until.trim()) {
      const v = dayToIso(until.trim(), true)
      if (v) f.until = v
      else bad.push({ field: 'until', message: 'must look like 2026-12-31' })
    }
    if (bad.length) {
      setFilterError(
        new ApiError(400, { code: 'invalid', message: 'the filter is invalid', details: bad }, 'invalid'),
      )
      return
    }
    setFilterError(undefined)
    setCursor(undefined)
    setHistory([])
    setFilter(f)
  }
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
      <Form class="inline" onSubmit={applyFilter} label="Filter the audit log">
        <Field
          label="Action (e.g. environment.* )"
          name="action"
          value={action}
          onInput={setAction}
          error={events.error ?? filterError}
        />
        <Field
          label="Actor id"
          name="actor"
          value={actor}
          onInput={setActor}
          error={events.error ?? filterError}
        />
        <Field
          label="From day (YYYY-MM-DD)"
          name="since"
          value={since}
          onInput={setSince}
          error={events.error ?? filterError}
        />
        <Field
          label="To day (YYYY-MM-DD)"
          name="until"
          value={until}
          onInput={setUntil}
          error={events.error ?? filterError}
        />
        <button type="submit">Filter</button>
        <button type="button" onClick={() => void doExport.run()} disabled={doExport.busy}>
          {doExport.busy ? 'Exporting…' : 'Export (JSON Lines)'}
        </button>
      </Form>
      <ErrorNote error={filterError ?? doExport.error} />
      {exported ? (
        <p role="status" data-testid="audit-exported">
          {exported}
        </p>
      ) : null}
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
