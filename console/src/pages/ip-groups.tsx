import { useState } from 'preact/hooks'
import { api, ok } from '../api/client'
import { atLeast } from '../session'
import {
  ErrorNote,
  Field,
  Form,
  lines,
  Paged,
  Show,
  TextArea,
  TypedConfirm,
  useAction,
  useLoad,
  When,
} from '../ui'
import { useRole, WorkspaceNav } from './workspaces'

/** Named lists of addresses an environment's access rules can allow (admins manage them, everyone reads). */
export function IpGroups({ ws }: { ws: string }) {
  const role = useRole(ws)
  const canManage = atLeast(role, 'admin')
  const load = useLoad(() => ok(api.GET('/v1/workspaces/{ws}/ip-groups', { params: { path: { ws } } })), [ws])
  const [editing, setEditing] = useState<{ id: string; name: string; cidrs: string } | null>(null)
  const [name, setName] = useState('')
  const [cidrs, setCidrs] = useState('')
  const save = useAction(async () => {
    if (editing)
      await ok(
        api.PATCH('/v1/workspaces/{ws}/ip-groups/{id}', {
          params: { path: { ws, id: editing.id } },
          body: { name, cidrs: lines(cidrs) },
        }),
      )
    else
      await ok(
        api.POST('/v1/workspaces/{ws}/ip-groups', {
          params: { path: { ws } },
          body: { name, cidrs: lines(cidrs) },
        }),
      )
    setEditing(null)
    setName('')
    setCidrs('')
    load.reload()
  })
  const [removing, setRemoving] = useState<{ id: string; name: string } | null>(null)
  const remove = useAction(async (id: string) => {
    await ok(api.DELETE('/v1/workspaces/{ws}/ip-groups/{id}', { params: { path: { ws, id } } }))
    setRemoving(null)
    load.reload()
  })
  return (
    <main id="main">
      <h1>IP groups of {ws}</h1>
      <WorkspaceNav ws={ws} here="ip-groups" />
      <Show load={load}>
        {(page) =>
          page.items.length === 0 ? (
            <p class="muted">No IP groups.</p>
          ) : (
            <Paged items={page.items} label="IP groups">
              {(items) => (
                <table data-testid="ip-groups-table">
                  <thead>
                    <tr>
                      <th scope="col">Name</th>
                      <th scope="col">Addresses</th>
                      <th scope="col">Updated</th>
                      {canManage ? <th scope="col">Actions</th> : null}
                    </tr>
                  </thead>
                  <tbody>
                    {items.map((g) => (
                      <tr key={g.id}>
                        <td>{g.name}</td>
                        <td class="mono">{g.cidrs.join(', ')}</td>
                        <td>
                          <When iso={g.updatedAt} />
                        </td>
                        {canManage ? (
                          <td class="buttons">
                            <button
                              type="button"
                              class="link"
                              aria-label={`Edit ${g.name}`}
                              onClick={() => {
                                setEditing({ id: g.id, name: g.name, cidrs: g.cidrs.join('\n') })
                                setName(g.name)
                                setCidrs(g.cidrs.join('\n'))
                              }}
                            >
                              Edit
                            </button>
                            <button
                              type="button"
                              class="link"
                              aria-label={`Delete ${g.name}`}
                              onClick={() => setRemoving({ id: g.id, name: g.name })}
                            >
                              Delete
                            </button>
                          </td>
                        ) : null}
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </Paged>
          )
        }
      </Show>
      {removing ? (
        <TypedConfirm
          word={removing.name}
          label={`Delete the IP group ${removing.name} (environments that allow it lose that rule)`}
          button="Delete the group"
          busy={remove.busy}
          error={remove.error}
          onConfirm={() => void remove.run(removing.id)}
          onCancel={() => setRemoving(null)}
        />
      ) : null}
      {canManage ? (
        <Form
          class="panel"
          onSubmit={() => void save.run()}
          label={editing ? 'Edit the IP group' : 'New IP group'}
        >
          <h2>{editing ? `Edit ${editing.name}` : 'New IP group'}</h2>
          <Field label="Group name" name="name" value={name} onInput={setName} required error={save.error} />
          <TextArea
            label="Addresses (CIDR, one a line)"
            name="cidrs"
            value={cidrs}
            onInput={setCidrs}
            error={save.error}
          />
          <ErrorNote error={save.error} />
          <p class="buttons">
            <button type="submit" disabled={save.busy}>
              {editing ? 'Save the group' : 'Create the group'}
            </button>
            {editing ? (
              <button
                type="button"
                onClick={() => {
                  setEditing(null)
                  setName('')
                  setCidrs('')
                }}
              >
                Cancel
              </button>
            ) : null}
          </p>
        </Form>
      ) : null}
    </main>
  )
}
