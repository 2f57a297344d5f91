import { useState } from 'preact/hooks'
import { api, ok } from '../../api/client'
import { usePoll } from '../../poll'
import type { paths } from '../../api/schema'
import { mayOn } from '../../session'
import {
  Checkbox,
  ErrorNote,
  Field,
  Form,
  PagedTable,
  Select,
  Show,
  StatusBadge,
  useAction,
  useLoad,
  When,
} from '../../ui'
import type { EnvTabProps } from './types'

type Rule =
  paths['/v1/projects/{id}/anonymization']['get']['responses'][200]['content']['application/json']['rules'][number]
const METHODS = ['hash', 'fake-email', 'fake-name', 'null', 'constant', 'keep'] as const
const SERVICES = ['mariadb', 'postgresql'] as const

/** Copy another environment's data here (services and files), with the project's anonymization rules applied. */
export function SyncTab({ env, role }: EnvTabProps) {
  const id = env.id
  const canSync = mayOn(role, 'developer', env.criticality)
  const envs = useLoad(
    () => ok(api.GET('/v1/projects/{id}/environments', { params: { path: { id: env.projectId } } })),
    [env.projectId],
  )
  const syncs = useLoad(() => ok(api.GET('/v1/environments/{id}/syncs', { params: { path: { id } } })), [id])
  const others = (envs.data?.items ?? []).filter((e) => e.id !== id)
  const [from, setFrom] = useState('')
  const [services, setServices] = useState('')
  const [files, setFiles] = useState(true)
  const [running, setRunning] = useState<string | null>(null)
  const start = useAction(async () => {
    const names = services
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
    const s = await ok(
      api.POST('/v1/environments/{id}/sync', {
        params: { path: { id } },
        body: { from: from || (others[0]?.id ?? ''), files, ...(names.length ? { services: names } : {}) },
      }),
    )
    setRunning(s.id)
    syncs.reload()
  })
  const nameOf = (eid: string) => envs.data?.items.find((e) => e.id === eid)?.name ?? eid
  return (
    <>
      <section aria-labelledby="sync-h">
        <h2 id="sync-h">Sync data from another environment</h2>
        {running ? (
          <SyncProgress
            id={running}
            onDone={() => {
              setRunning(null)
              syncs.reload()
            }}
          />
        ) : null}
        {canSync ? (
          others.length === 0 ? (
            <p class="muted">This project has no other environment to copy from.</p>
          ) : (
            <Form class="panel inline" onSubmit={() => void start.run()} label="Sync">
              <Select
                label="Copy from"
                name="from"
                value={from || (others[0]?.id ?? '')}
                options={others.map((e) => [e.id, `${e.name} (${e.criticality})`] as const)}
                onChange={setFrom}
                error={start.error}
              />
              <Field
                label="Services (names, comma-separated; empty: all)"
                name="services"
                value={services}
                onInput={setServices}
                error={start.error}
              />
              <Checkbox
                label="Copy persistent directories"
                name="files"
                checked={files}
                onChange={setFiles}
              />
              <button type="submit" disabled={start.busy || running !== null}>
                Start sync
              </button>
              <ErrorNote error={start.error} />
            </Form>
          )
        ) : null}
        <h3>Past syncs</h3>
        <PagedTable
          load={syncs}
          label="Syncs"
          empty="No syncs yet."
          columns={['Started', 'From', 'Status', 'Services', 'Rules applied']}
          rowKey={(s) => s.id}
          row={(s) => (
            <tr>
              <td>
                <When iso={s.createdAt} />
              </td>
              <td>{nameOf(s.sourceEnvironmentId)}</td>
              <td>
                <StatusBadge status={s.status} />
                {s.reason ? <div class="muted">{s.reason}</div> : null}
              </td>
              <td>{s.services.join(', ') || '–'}</td>
              <td>{s.rulesApplied}</td>
            </tr>
          )}
        />
      </section>
      <Anonymization projectId={env.projectId} canEdit={mayOn(role, 'developer', env.criticality)} />
    </>
  )
}

function SyncProgress({ id, onDone }: { id: string; onDone: () => void }) {
  const { value: s, error } = usePoll(
    () => ok(api.GET('/v1/syncs/{id}', { params: { path: { id } } })),
    (d) => d.status === 'running',
    onDone,
    [id],
  )
  return (
    <div class="panel" data-testid="sync-progress">
      <p role="status">
        {s === null || s.status === 'running' ? (
          <>
            <progress aria-label="Sync in progress" /> Copying…
          </>
        ) : (
          <>
            Sync {s.status}
            {s.reason ? `: ${s.reason}` : ''}
          </>
        )}
      </p>
      <ErrorNote error={error} />
    </div>
  )
}

/** The project's anonymization rules, applied to every copy into a non-production environment. */
function Anonymization({ projectId, canEdit }: { projectId: string; canEdit: boolean }) {
  const load = useLoad(
    () => ok(api.GET('/v1/projects/{id}/anonymization', { params: { path: { id: projectId } } })),
    [projectId],
  )
  return (
    <section aria-labelledby="anon-h">
      <h2 id="anon-h">Anonymization rules</h2>
      <Show load={load}>
        {(a) => (
          <RulesEditor
            key={a.updatedAt ?? 'none'}
            projectId={projectId}
            initial={a.rules}
            canEdit={canEdit}
          />
        )}
      </Show>
    </section>
  )
}

function RulesEditor(props: { projectId: string; initial: readonly Rule[]; canEdit: boolean }) {
  const [rules, setRules] = useState<Rule[]>([...props.initial])
  const [note, setNote] = useState<string | null>(null)
  const save = useAction(async () => {
    const r = await ok(
      api.PUT('/v1/projects/{id}/anonymization', {
        params: { path: { id: props.projectId } },
        body: { rules: rules.map(clean) },
      }),
    )
    setRules([...r.rules])
    setNote(
      `Saved ${r.rules.length} rules${r.unchecked?.length ? ` (${r.unchecked.length} not checked: no running service of their type yet)` : ''}.`,
    )
  })
  const update = (i: number, patch: Partial<Rule>) =>
    setRules((cur) => cur.map((r, j) => (j === i ? { ...r, ...patch } : r)))
  if (!props.canEdit)
    return rules.length === 0 ? (
      <p class="muted">No rules.</p>
    ) : (
      <ul>
        {rules.map((r, i) => (
          <li key={i} class="mono">
            {r.service} {r.table}.{r.column}: {r.method}
            {r.value !== undefined ? ` ${r.value}` : ''}
          </li>
        ))}
      </ul>
    )
  return (
    <Form onSubmit={() => void save.run()} label="Anonymization rules">
      {rules.length === 0 ? <p class="muted">No rules.</p> : null}
      {rules.map((r, i) => (
        <fieldset key={i} class="inline rule">
          <legend>Rule {i + 1}</legend>
          <Select
            label="Service"
            name={`rules.${i}.service`}
            value={r.service}
            options={SERVICES}
            onChange={(v) => update(i, { service: v })}
            error={save.error}
          />
          <Field
            label="Table"
            name={`rules.${i}.table`}
            value={r.table}
            onInput={(v) => update(i, { table: v })}
            required
            error={save.error}
          />
          <Field
            label="Column"
            name={`rules.${i}.column`}
            value={r.column}
            onInput={(v) => update(i, { column: v })}
            required
            error={save.error}
          />
          <Select
            label="Method"
            name={`rules.${i}.method`}
            value={r.method}
            options={METHODS}
            onChange={(v) => update(i, { method: v })}
            error={save.error}
          />
          {r.method === 'constant' ? (
            <Field
              label="Value"
              name={`rules.${i}.value`}
              value={r.value ?? ''}
              onInput={(v) => update(i, { value: v })}
              error={save.error}
            />
          ) : null}
          <button
            type="button"
            class="link"
            onClick={() => setRules((cur) => cur.filter((_, j) => j !== i))}
            aria-label={`Remove rule ${i + 1}`}
          >
            Remove
          </button>
        </fieldset>
      ))}
      <p class="buttons">
        <button
          type="button"
          onClick={() =>
            setRules((cur) => [...cur, { service: 'mariadb', table: '', column: '', method: 'hash' }])
          }
        >
          Add a rule
        </button>
        <button type="submit" disabled={save.busy}>
          Save rules
        </button>
      </p>
      {note ? <p role="status">{note}</p> : null}
      <ErrorNote error={save.error} />
    </Form>
  )
}

/** Sends `value` only with the constant method (the only one that takes it). */
function clean(r: Rule): Rule {
  const { value, ...rest } = r
  return r.method === 'constant' && value !== undefined ? { ...rest, value } : rest
}
