import { useState } from 'preact/hooks'
import { api, ok } from '../api/client'
import { navigate } from '../router'
import { atLeast, useSession, type Role } from '../session'
import { ErrorNote, Field, Link, Show, StatusBadge, useAction, useLoad, When } from '../ui'

/** My role in a workspace, read from its member list (least privilege when it cannot be read). */
export function useRole(ws: string): Role | undefined {
  const { user } = useSession()
  const load = useLoad(async () => {
    const r = await api.GET('/v1/workspaces/{ws}/members', { params: { path: { ws } } })
    return (r.data?.items.find((m) => m.userId === user.id)?.role ?? 'viewer') as Role
  }, [ws, user.id])
  return load.data
}

export function Workspaces() {
  const load = useLoad(() => ok(api.GET('/v1/workspaces')), [])
  return (
    <main id="main">
      <h1>Workspaces</h1>
      <Show load={load}>
        {(page) => (
          <ul class="cards">
            {page.items.map((w) => (
              <li key={w.id}>
                <Link href={`/workspaces/${encodeURIComponent(w.name)}`}>{w.displayName || w.name}</Link>
                <span class="muted"> {w.name}</span>
                {w.requireMfa ? <span class="badge">2FA required</span> : null}
              </li>
            ))}
          </ul>
        )}
      </Show>
    </main>
  )
}

export function WorkspaceNav({ ws, here }: { ws: string; here: string }) {
  const role = useRole(ws)
  const items: Array<[string, string, boolean]> = [
    ['projects', 'Projects', true],
    ['members', 'Members', true],
    ['tokens', 'API tokens', true],
    ['ssh-keys', 'SSH keys', true],
    ['ip-groups', 'IP groups', true],
    ['audit', 'Audit log', atLeast(role, 'admin')],
    ['incident', 'Incident', atLeast(role, 'admin')],
  ]
  return (
    <nav aria-label="Workspace" class="tabs">
      {items
        .filter(([, , shown]) => shown)
        .map(([key, label]) => (
          <Link
            key={key}
            href={`/workspaces/${encodeURIComponent(ws)}${key === 'projects' ? '' : `/${key}`}`}
            class={here === key ? 'current' : ''}
            current={here === key}
          >
            {label}
          </Link>
        ))}
    </nav>
  )
}

export function Workspace({ ws }: { ws: string }) {
  const role = useRole(ws)
  const load = useLoad(() => ok(api.GET('/v1/workspaces/{ws}/projects', { params: { path: { ws } } })), [ws])
  const [name, setName] = useState('')
  const [repository, setRepository] = useState('')
  const create = useAction(async () => {
    const p = await ok(
      api.POST('/v1/workspaces/{ws}/projects', { params: { path: { ws } }, body: { name, repository } }),
    )
    navigate(`/projects/${p.id}`)
  })
  return (
    <main id="main">
      <h1>Workspace {ws}</h1>
      <WorkspaceNav ws={ws} here="projects" />
      <h2>Projects</h2>
      <Show load={load}>
        {(page) =>
          page.items.length === 0 ? (
            <p class="muted">No projects yet.</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">Project</th>
                  <th scope="col">Repository</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {page.items.map((p) => (
                  <tr key={p.id}>
                    <td>
                      <Link href={`/projects/${p.id}`}>{p.name}</Link>
                      {p.description ? <div class="muted">{p.description}</div> : null}
                    </td>
                    <td class="mono">{p.repository ?? '–'}</td>
                    <td>
                      <When iso={p.createdAt} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Show>
      {atLeast(role, 'admin') ? (
        <form
          class="panel"
          onSubmit={(e) => {
            e.preventDefault()
            void create.run()
          }}
        >
          <h3>New project</h3>
          <Field label="Name" name="name" value={name} onInput={setName} required error={create.error} />
          <Field
            label="Git repository (URL or path)"
            name="repository"
            value={repository}
            onInput={setRepository}
            required
            error={create.error}
          />
          <ErrorNote error={create.error} />
          <button type="submit" disabled={create.busy}>
            Create project
          </button>
        </form>
      ) : null}
    </main>
  )
}

export function Project({ id }: { id: string }) {
  const project = useLoad(() => ok(api.GET('/v1/projects/{id}', { params: { path: { id } } })), [id])
  const envs = useLoad(
    () => ok(api.GET('/v1/projects/{id}/environments', { params: { path: { id } } })),
    [id],
  )
  const [name, setName] = useState('')
  const [branch, setBranch] = useState('main')
  const create = useAction(async () => {
    const env = await ok(
      api.POST('/v1/projects/{id}/environments', {
        params: { path: { id } },
        body: { name, branch, criticality: 'staging' },
      }),
    )
    navigate(`/environments/${env.id}`)
  })
  return (
    <main id="main">
      <Show load={project}>
        {(p) => (
          <>
            <p class="crumbs">
              <Link href="/">Workspaces</Link> / <WorkspaceLink id={p.workspaceId} />
            </p>
            <h1>Project {p.name}</h1>
            {p.description ? <p data-testid="project-description">{p.description}</p> : null}
            <p class="mono">{p.repository ?? ''}</p>
          </>
        )}
      </Show>
      <h2>Environments</h2>
      <Show load={envs}>
        {(page) =>
          page.items.length === 0 ? (
            <p class="muted">No environments yet.</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">Environment</th>
                  <th scope="col">Branch</th>
                  <th scope="col">Criticality</th>
                  <th scope="col">Host</th>
                  <th scope="col">Status</th>
                </tr>
              </thead>
              <tbody>
                {page.items.map((e) => (
                  <tr key={e.id}>
                    <td>
                      <Link href={`/environments/${e.id}`}>{e.name}</Link>
                    </td>
                    <td class="mono">{e.branch}</td>
                    <td>{e.criticality}</td>
                    <td class="mono">{e.host}</td>
                    <td>
                      <EnvStatus id={e.id} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Show>
      <Show load={project}>
        {(p) => (
          <NewEnvironment
            ws={p.workspaceId}
            create={create}
            name={name}
            setName={setName}
            branch={branch}
            setBranch={setBranch}
          />
        )}
      </Show>
    </main>
  )
}

function NewEnvironment(props: {
  ws: string
  create: ReturnType<typeof useAction<[], void>>
  name: string
  setName: (v: string) => void
  branch: string
  setBranch: (v: string) => void
}) {
  const role = useRole(props.ws)
  if (!atLeast(role, 'admin')) return null
  return (
    <form
      class="panel"
      onSubmit={(e) => {
        e.preventDefault()
        void props.create.run()
      }}
    >
      <h3>New environment</h3>
      <Field
        label="Name"
        name="name"
        value={props.name}
        onInput={props.setName}
        required
        error={props.create.error}
      />
      <Field
        label="Git branch"
        name="branch"
        value={props.branch}
        onInput={props.setBranch}
        required
        error={props.create.error}
      />
      <ErrorNote error={props.create.error} />
      <button type="submit" disabled={props.create.busy}>
        Create environment
      </button>
    </form>
  )
}

export function WorkspaceLink({ id }: { id: string }) {
  const ws = useLoad(() => ok(api.GET('/v1/workspaces/{ws}', { params: { path: { ws: id } } })), [id])
  return ws.data ? (
    <Link href={`/workspaces/${encodeURIComponent(ws.data.name)}`}>{ws.data.name}</Link>
  ) : (
    <span>…</span>
  )
}

/** running / deploying / failed / maintenance / restricted, from the status and the latest deployment. */
export function EnvStatus({ id, version = 0 }: { id: string; version?: number }) {
  const load = useLoad(async () => {
    const [status, deployments] = await Promise.all([
      ok(api.GET('/v1/environments/{id}/status', { params: { path: { id } } })),
      ok(api.GET('/v1/environments/{id}/deployments', { params: { path: { id }, query: { limit: 1 } } })),
    ])
    const last = deployments.items[0]
    if (status.maintenance) return 'maintenance'
    if (last && ['queued', 'building', 'deploying'].includes(last.status)) return 'deploying'
    if (last?.status === 'failed' && status.currentRelease === null) return 'failed'
    if (status.currentRelease !== null) return 'running'
    return last?.status === 'failed' ? 'failed' : 'not deployed'
  }, [id, version])
  return load.data ? <StatusBadge status={load.data} /> : <span class="muted">…</span>
}
