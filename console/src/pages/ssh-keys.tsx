import { useState } from 'preact/hooks'
import { api, ok } from '../api/client'
import { ErrorNote, Field, Form, Paged, Show, TextArea, TypedConfirm, useAction, useLoad, When } from '../ui'
import { WorkspaceNav } from './workspaces'

/** The signed-in person's SSH keys (for `git push` deploys): they are the person's, shown in every workspace. */
export function SshKeys({ ws }: { ws: string }) {
  const load = useLoad(() => ok(api.GET('/v1/me/ssh-keys')), [])
  const [publicKey, setPublicKey] = useState('')
  const [name, setName] = useState('')
  const add = useAction(async () => {
    await ok(
      api.POST('/v1/me/ssh-keys', { body: { publicKey: publicKey.trim(), ...(name ? { name } : {}) } }),
    )
    setPublicKey('')
    setName('')
    load.reload()
  })
  const [removing, setRemoving] = useState<{ id: string; name: string } | null>(null)
  const remove = useAction(async (id: string) => {
    await ok(api.DELETE('/v1/me/ssh-keys/{id}', { params: { path: { id } } }))
    setRemoving(null)
    load.reload()
  })
  return (
    <main id="main">
      <h1>Your SSH keys</h1>
      <WorkspaceNav ws={ws} here="ssh-keys" />
      <Show load={load}>
        {(page) =>
          page.items.length === 0 ? (
            <p class="muted">No SSH keys.</p>
          ) : (
            <Paged items={page.items} label="SSH keys">
              {(items) => (
                <table data-testid="ssh-keys-table">
                  <thead>
                    <tr>
                      <th scope="col">Name</th>
                      <th scope="col">Type</th>
                      <th scope="col">Fingerprint</th>
                      <th scope="col">Added</th>
                      <th scope="col">Actions</th>
                    </tr>
                  </thead>
                  <tbody>
                    {items.map((k) => (
                      <tr key={k.id}>
                        <td>{k.name}</td>
                        <td>
                          {k.type} ({k.bits} bits)
                        </td>
                        <td class="mono">{k.fingerprint}</td>
                        <td>
                          <When iso={k.createdAt} />
                        </td>
                        <td>
                          <button
                            type="button"
                            class="link"
                            onClick={() => setRemoving({ id: k.id, name: k.name })}
                            aria-label={`Delete the key ${k.name}`}
                          >
                            Delete
                          </button>
                        </td>
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
          label={`Delete the SSH key ${removing.name}`}
          button="Delete the key"
          busy={remove.busy}
          error={remove.error}
          onConfirm={() => void remove.run(removing.id)}
          onCancel={() => setRemoving(null)}
        />
      ) : null}
      <Form class="panel" onSubmit={() => void add.run()} label="Add an SSH key">
        <h2>Add a key</h2>
        <TextArea
          label="Public key (ssh-ed25519 AAAA… or ssh-rsa AAAA…)"
          name="publicKey"
          value={publicKey}
          onInput={setPublicKey}
          rows={3}
          error={add.error}
        />
        <Field label="Name (optional)" name="name" value={name} onInput={setName} error={add.error} />
        <ErrorNote error={add.error} />
        <button type="submit" disabled={add.busy}>
          Add key
        </button>
      </Form>
    </main>
  )
}
