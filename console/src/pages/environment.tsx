import { useEffect, useRef, useState } from 'preact/hooks'
import { api, ok } from '../api/client'
import type { paths } from '../api/schema'
import { mayOn, type Role } from '../session'
import { ErrorNote, Field, Link, Show, StatusBadge, useAction, useLoad, When } from '../ui'
import { AccessTab } from './env/access'
import { Backups } from './env/backups'
import { Domains } from './env/domains'
import { Jobs } from './env/jobs'
import { Runtime } from './env/runtime'
import { Services } from './env/services'
import { SyncTab } from './env/sync'
import type { Env } from './env/types'
import { WafTab } from './env/waf-settings'
import { EnvStatus, useRole, WorkspaceLink } from './workspaces'
import { WafEvents } from './waf'

type Deployment = paths['/v1/deployments/{id}']['get']['responses'][200]['content']['application/json']
const ACTIVE = new Set(['queued', 'building', 'deploying'])

const TABS = [
  ['', 'Overview'],
  ['services', 'Services'],
  ['backups', 'Backups'],
  ['sync', 'Sync'],
  ['access', 'Access'],
  ['domains', 'Domains'],
  ['waf', 'WAF'],
  ['runtime', 'Runtime'],
] as const
export type EnvTab = (typeof TABS)[number][0]
export const isEnvTab = (t: string): t is EnvTab => TABS.some(([k]) => k === t)

function EnvNav({ id, here }: { id: string; here: EnvTab }) {
  return (
    <nav aria-label="Environment" class="tabs">
      {TABS.map(([key, label]) => (
        <Link
          key={key}
          href={`/environments/${encodeURIComponent(id)}${key ? `/${key}` : ''}`}
          class={here === key ? 'current' : ''}
          current={here === key}
        >
          {label}
        </Link>
      ))}
    </nav>
  )
}

export function Environment({ id, tab = '' }: { id: string; tab?: EnvTab }) {
  const env = useLoad(() => ok(api.GET('/v1/environments/{id}', { params: { path: { id } } })), [id])
  // Bumped when a deployment ends, so the status badge reads the new state.
  const [version, setVersion] = useState(0)
  return (
    <main id="main">
      <Show load={env}>
        {(e) => (
          <>
            <p class="crumbs">
              <Link href="/">Workspaces</Link> / <WorkspaceLink id={e.workspaceId} /> /{' '}
              <Link href={`/projects/${e.projectId}`}>project</Link>
            </p>
            <h1>
              Environment {e.name} <EnvStatus id={e.id} version={version} />
            </h1>
            <dl class="facts">
              <dt>Host</dt>
              <dd class="mono">{e.host}</dd>
              <dt>Branch</dt>
              <dd class="mono">{e.branch}</dd>
              <dt>Criticality</dt>
              <dd>{e.criticality}</dd>
              <dt>Runtime</dt>
              <dd class="mono">{e.runtime}</dd>
            </dl>
            <EnvNav id={e.id} here={tab} />
            {tab === '' ? (
              <EnvBody
                id={e.id}
                ws={e.workspaceId}
                branch={e.branch}
                criticality={e.criticality}
                onChanged={() => setVersion((v) => v + 1)}
              />
            ) : (
              <EnvTabBody env={e} tab={tab} />
            )}
          </>
        )}
      </Show>
    </main>
  )
}

function EnvTabBody({ env, tab }: { env: Env; tab: Exclude<EnvTab, ''> }) {
  const role: Role | undefined = useRole(env.workspaceId)
  const p = { env, role }
  switch (tab) {
    case 'services':
      return <Services {...p} />
    case 'backups':
      return <Backups {...p} />
    case 'sync':
      return <SyncTab {...p} />
    case 'access':
      return <AccessTab {...p} />
    case 'domains':
      return <Domains {...p} />
    case 'waf':
      return <WafTab {...p} />
    case 'runtime':
      return <Runtime {...p} />
  }
}

function EnvBody(props: {
  id: string
  ws: string
  branch: string
  criticality: string
  onChanged: () => void
}) {
  const { id, ws, branch } = props
  const role = useRole(ws)
  const deployments = useLoad(
    () =>
      ok(api.GET('/v1/environments/{id}/deployments', { params: { path: { id }, query: { limit: 20 } } })),
    [id],
  )
  const [active, setActive] = useState<string | null>(null)
  useEffect(() => {
    const running = deployments.data?.items.find((d) => ACTIVE.has(d.status))
    if (running && active === null) setActive(running.id)
  }, [deployments.data])
  return (
    <>
      {mayOn(role, 'developer', props.criticality) ? (
        <DeployForm id={id} branch={branch} onStarted={(d) => (setActive(d.id), deployments.reload())} />
      ) : null}
      {active ? (
        <DeploymentProgress
          key={active}
          id={active}
          onDone={() => {
            deployments.reload()
            props.onChanged()
          }}
        />
      ) : null}
      <Releases
        load={deployments}
        canRollback={mayOn(role, 'developer', props.criticality)}
        envId={id}
        onRolledBack={(d) => (setActive(d.id), deployments.reload())}
      />
      <Variables id={id} canEdit={mayOn(role, 'developer', props.criticality)} />
      {mayOn(role, 'developer', props.criticality) ? <Jobs id={id} /> : null}
      <WafEvents id={id} />
    </>
  )
}

function DeployForm({
  id,
  branch,
  onStarted,
}: {
  id: string
  branch: string
  onStarted: (d: Deployment) => void
}) {
  const [ref, setRef] = useState('')
  const deploy = useAction(async () => {
    const d = await ok(
      api.POST('/v1/environments/{id}/deployments', { params: { path: { id } }, body: ref ? { ref } : {} }),
    )
    onStarted(d)
  })
  return (
    <form
      class="panel inline"
      onSubmit={(e) => {
        e.preventDefault()
        void deploy.run()
      }}
    >
      <Field
        label={`Branch or ref (default: ${branch})`}
        name="ref"
        value={ref}
        onInput={setRef}
        error={deploy.error}
      />
      <button type="submit" disabled={deploy.busy}>
        Deploy
      </button>
      <ErrorNote error={deploy.error} />
    </form>
  )
}

const PHASES: Array<[string, string]> = [
  ['fetch', 'Fetch'],
  ['build', 'Build'],
  ['health', 'Health check'],
  ['switch', 'Switch'],
]

/** Which phases are done, from the deployment's status and what the build log said so far. */
function phaseState(status: string, log: string): Record<string, 'done' | 'active' | 'pending' | 'failed'> {
  const reached =
    status === 'succeeded'
      ? 4
      : status === 'deploying'
        ? /switch|routing|serving/i.test(log)
          ? 3
          : 2
        : status === 'building'
          ? /clon|fetch|checked out|commit/i.test(log)
            ? 1
            : 0
          : 0
  const out: Record<string, 'done' | 'active' | 'pending' | 'failed'> = {}
  PHASES.forEach(([key], i) => {
    out[key] =
      i < reached
        ? 'done'
        : i === reached
          ? status === 'failed'
            ? 'failed'
            : status === 'succeeded'
              ? 'done'
              : 'active'
          : 'pending'
  })
  return out
}

function DeploymentProgress({ id, onDone }: { id: string; onDone: () => void }) {
  const [deployment, setDeployment] = useState<Deployment | null>(null)
  const log = useLogStream(id, deployment === null || ACTIVE.has(deployment.status))
  useEffect(() => {
    let live = true
    let timer: ReturnType<typeof setTimeout> | undefined
    const poll = async () => {
      const d = await ok(api.GET('/v1/deployments/{id}', { params: { path: { id } } })).catch(() => null)
      if (!live) return
      if (d) setDeployment(d)
      if (!d || ACTIVE.has(d.status)) timer = setTimeout(() => void poll(), 1000)
      else onDone()
    }
    void poll()
    return () => {
      live = false
      clearTimeout(timer)
    }
  }, [id])
  const phases = phaseState(deployment?.status ?? 'queued', log.text)
  return (
    <section aria-labelledby="deploy-h" class="panel">
      <h2 id="deploy-h">
        Deployment #{deployment?.number ?? '…'}{' '}
        {deployment ? <StatusBadge status={deployment.status} /> : null}
      </h2>
      <ol class="phases" aria-label="Phases">
        {PHASES.map(([key, label]) => (
          <li key={key} class={`phase phase-${phases[key]}`}>
            {label} <span class="sr">({phases[key]})</span>
          </li>
        ))}
      </ol>
      {deployment?.reason ? <p class="error">{deployment.reason}</p> : null}
      <p class="muted" role="status">
        {log.state === 'streaming'
          ? 'Build log (live)'
          : log.state === 'reconnecting'
            ? 'Connection lost: reconnecting…'
            : 'Build log'}
      </p>
      <pre class="log" data-testid="build-log" tabIndex={0} aria-label="Build log">
        {log.text}
      </pre>
    </section>
  )
}

/**
 * Follows a deployment's log (ndjson over a streamed response). The server replays the stored log on every
 * connection, so after a reconnect the part already shown is skipped: no line appears twice.
 */
function useLogStream(
  id: string,
  follow: boolean,
): { text: string; state: 'streaming' | 'reconnecting' | 'ended' } {
  const [text, setText] = useState('')
  const [state, setState] = useState<'streaming' | 'reconnecting' | 'ended'>('streaming')
  const followRef = useRef(follow)
  followRef.current = follow
  useEffect(() => {
    let shown = ''
    let stopped = false
    const controller = new AbortController()
    const connect = async (): Promise<void> => {
      while (!stopped) {
        let received = ''
        try {
          setState('streaming')
          const r = await api.GET('/v1/deployments/{id}/logs', {
            params: { path: { id }, query: { follow: true, format: 'ndjson', untilFinished: true } },
            parseAs: 'stream',
            signal: controller.signal,
          })
          if (!r.response.ok || !r.data) throw new Error(`HTTP ${r.response.status}`)
          const reader = r.data.pipeThrough(new TextDecoderStream()).getReader()
          let buffer = ''
          for (;;) {
            const { value, done } = await reader.read()
            if (done) break
            buffer += value
            let nl: number
            while ((nl = buffer.indexOf('\n')) >= 0) {
              const line = buffer.slice(0, nl)
              buffer = buffer.slice(nl + 1)
              if (!line) continue
              received += (JSON.parse(line) as { text: string }).text
              if (received.length > shown.length) {
                shown = received
                setText(shown)
              }
            }
          }
        } catch {
          if (stopped) return
        }
        if (!followRef.current) break
        setState('reconnecting')
        await new Promise((r) => setTimeout(r, 1000))
      }
      setState('ended')
    }
    void connect()
    return () => {
      stopped = true
      controller.abort()
    }
  }, [id])
  return { text, state }
}

function Releases(props: {
  load: ReturnType<typeof useLoad<{ items: Deployment[] }>>
  canRollback: boolean
  envId: string
  onRolledBack: (d: Deployment) => void
}) {
  const rollback = useAction(async () => {
    const d = await ok(api.POST('/v1/environments/{id}/rollback', { params: { path: { id: props.envId } } }))
    props.onRolledBack(d)
  })
  return (
    <section aria-labelledby="releases-h">
      <h2 id="releases-h">Releases</h2>
      <Show load={props.load}>
        {(page) =>
          page.items.length === 0 ? (
            <p class="muted">Nothing deployed yet.</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">#</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Status</th>
                  <th scope="col">Release</th>
                  <th scope="col">Commit</th>
                  <th scope="col">Started</th>
                </tr>
              </thead>
              <tbody>
                {page.items.map((d) => (
                  <tr key={d.id}>
                    <td>{d.number}</td>
                    <td>{d.kind}</td>
                    <td>
                      <StatusBadge status={d.status} />
                    </td>
                    <td>{d.release ?? '–'}</td>
                    <td class="mono">{d.commit?.slice(0, 12) ?? d.ref ?? '–'}</td>
                    <td>
                      <When iso={d.startedAt ?? d.createdAt} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Show>
      {props.canRollback ? (
        <p>
          <button type="button" onClick={() => void rollback.run()} disabled={rollback.busy}>
            Roll back to the previous release
          </button>
        </p>
      ) : null}
      <ErrorNote error={rollback.error} />
    </section>
  )
}

function Variables({ id, canEdit }: { id: string; canEdit: boolean }) {
  const load = useLoad(
    () => ok(api.GET('/v1/environments/{id}/variables', { params: { path: { id } } })),
    [id],
  )
  const [name, setName] = useState('')
  const [value, setValue] = useState('')
  const [secret, setSecret] = useState(true)
  const set = useAction(async () => {
    await ok(
      api.PUT('/v1/environments/{id}/variables/{name}', {
        params: { path: { id, name } },
        body: { value, secret },
      }),
    )
    setName('')
    setValue('')
    load.reload()
  })
  const remove = useAction(async (n: string) => {
    await ok(api.DELETE('/v1/environments/{id}/variables/{name}', { params: { path: { id, name: n } } }))
    load.reload()
  })
  return (
    <section aria-labelledby="vars-h">
      <h2 id="vars-h">Variables</h2>
      <Show load={load}>
        {(page) =>
          page.items.length === 0 ? (
            <p class="muted">No variables.</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Value</th>
                  <th scope="col">Updated</th>
                  {canEdit ? <th scope="col">Actions</th> : null}
                </tr>
              </thead>
              <tbody>
                {page.items.map((v) => (
                  <tr key={v.name}>
                    <td class="mono">{v.name}</td>
                    <td class="mono">{v.secret ? <span class="muted">secret (hidden)</span> : v.value}</td>
                    <td>
                      <When iso={v.updatedAt} />
                    </td>
                    {canEdit ? (
                      <td>
                        <button
                          type="button"
                          class="link"
                          onClick={() => void remove.run(v.name)}
                          aria-label={`Delete ${v.name}`}
                        >
                          Delete
                        </button>
                      </td>
                    ) : null}
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Show>
      <ErrorNote error={remove.error} />
      {canEdit ? (
        <form
          class="panel inline"
          onSubmit={(e) => {
            e.preventDefault()
            void set.run()
          }}
        >
          <Field label="Name" name="name" value={name} onInput={setName} required error={set.error} />
          <Field
            label="Value"
            name="value"
            type={secret ? 'password' : 'text'}
            autocomplete="new-password"
            value={value}
            onInput={setValue}
            required
            error={set.error}
          />
          <div class="field">
            <label>
              <input type="checkbox" checked={secret} onChange={(e) => setSecret(e.currentTarget.checked)} />{' '}
              Secret
            </label>
          </div>
          <button type="submit" disabled={set.busy}>
            Set variable
          </button>
          <ErrorNote error={set.error} />
        </form>
      ) : null}
    </section>
  )
}
