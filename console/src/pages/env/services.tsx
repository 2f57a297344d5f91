import { useState } from 'preact/hooks'
import { api, ok } from '../../api/client'
import { mayOn } from '../../session'
import {
  bytes,
  ErrorNote,
  Field,
  Form,
  PagedTable,
  Select,
  StatusBadge,
  useAction,
  useLoad,
  When,
} from '../../ui'
import type { EnvTabProps } from './types'

const TYPES = ['mariadb', 'redis', 'postgresql'] as const

/** The environment's managed services with their usage (data on disk, memory) and process state. */
export function Services({ env, role }: EnvTabProps) {
  const id = env.id
  const load = useLoad(
    () => ok(api.GET('/v1/environments/{id}/services', { params: { path: { id } } })),
    [id],
  )
  const canManage = mayOn(role, 'developer', env.criticality)
  const [type, setType] = useState<(typeof TYPES)[number]>('redis')
  const [name, setName] = useState('')
  const [version, setVersion] = useState('')
  const create = useAction(async () => {
    await ok(
      api.POST('/v1/environments/{id}/services', {
        params: { path: { id } },
        body: { type, ...(name ? { name } : {}), ...(version ? { version } : {}) },
      }),
    )
    setName('')
    setVersion('')
    load.reload()
  })
  return (
    <section aria-labelledby="services-h">
      <h2 id="services-h">
        Services{' '}
        <button type="button" class="link" onClick={load.reload}>
          Refresh services
        </button>
      </h2>
      <PagedTable
        load={load}
        label="Services"
        empty="No services."
        columns={['Name', 'Type', 'Version', 'Status', 'Data', 'Memory', 'Restarts', canManage && 'Actions']}
        rowKey={(s) => s.id}
        row={(s, ask) => <ServiceRow id={s.id} canManage={canManage} onRemove={ask} />}
        confirm={{
          word: (s) => s.name,
          label: (s) => `Delete the service ${s.name} and its data`,
          button: 'Delete the service',
          run: async (s) => {
            await ok(
              api.DELETE('/v1/services/{id}', {
                params: { path: { id: s.id }, query: { deleteData: true } },
              }),
            )
            load.reload()
          },
        }}
      />
      {canManage ? (
        <Form class="panel inline" onSubmit={() => void create.run()} label="New service">
          <Select
            label="Type"
            name="type"
            value={type}
            options={TYPES}
            onChange={setType}
            error={create.error}
          />
          <Field
            label="Service name (optional)"
            name="name"
            value={name}
            onInput={setName}
            error={create.error}
          />
          <Field
            label="Version (optional)"
            name="version"
            value={version}
            onInput={setVersion}
            error={create.error}
          />
          <button type="submit" disabled={create.busy}>
            {create.busy ? 'Adding…' : 'Add service'}
          </button>
          <ErrorNote error={create.error} />
        </Form>
      ) : null}
    </section>
  )
}

function ServiceRow(props: { id: string; canManage: boolean; onRemove: () => void }) {
  const s = useLoad(
    () => ok(api.GET('/v1/services/{id}', { params: { path: { id: props.id } } })),
    [props.id],
  )
  if (!s.data)
    return (
      <tr>
        <td colSpan={props.canManage ? 8 : 7}>{s.error ? <ErrorNote error={s.error} /> : 'Loading…'}</td>
      </tr>
    )
  const d = s.data
  return (
    <tr>
      <td class="mono">{d.name}</td>
      <td>{d.type}</td>
      <td class="mono">{d.version}</td>
      <td>
        <StatusBadge status={d.status} />
        {d.reason ? <div class="muted">{d.reason}</div> : null}
        <div class="muted small">
          since <When iso={d.updatedAt} />
        </div>
      </td>
      <td>{bytes(d.usage.dataBytes)}</td>
      <td>{bytes(d.usage.memoryRssBytes)}</td>
      <td>{d.process ? `${d.process.restarts} (${d.process.state})` : '–'}</td>
      {props.canManage ? (
        <td>
          <button type="button" class="link" onClick={props.onRemove} aria-label={`Delete service ${d.name}`}>
            Delete
          </button>
        </td>
      ) : null}
    </tr>
  )
}
