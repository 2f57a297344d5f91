import { useState } from 'preact/hooks'
import { api, ok } from '../api/client'
import { atLeast } from '../session'
import { ErrorNote, Field, Form, lines, PagedTable, TextArea, useAction, useLoad, When } from '../ui'
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
  return (
    <main id="main">
      <h1>IP groups of {ws}</h1>
      <WorkspaceNav ws={ws} here="ip-groups" />
      <PagedTable
        load={load}
        label="IP groups"
        empty="No IP groups."
        columns={['Name', 'Addresses', 'Updated', canManage && 'Actions']}
        rowKey={(g) => g.id}
        row={(g, ask) => (
          <tr>
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
                <button type="button" class="link" aria-label={`Delete ${g.name}`} onClick={ask}>
                  Delete
                </button>
              </td>
            ) : null}
          </tr>
        )}
        confirm={{
          word: (g) => g.name,
          label: (g) => `Delete the IP group ${g.name} (environments that allow it lose that rule)`,
          button: 'Delete the group',
          run: async (g) => {
            await ok(api.DELETE('/v1/workspaces/{ws}/ip-groups/{id}', { params: { path: { ws, id: g.id } } }))
            load.reload()
          },
        }}
      />
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
