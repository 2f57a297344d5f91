import { useState } from 'preact/hooks'
import { api, ok } from '../api/client'
import { ErrorNote, Field, Form, PagedTable, TextArea, useAction, useLoad, When } from '../ui'
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
  return (
    <main id="main">
      <h1>Your SSH keys</h1>
      <WorkspaceNav ws={ws} here="ssh-keys" />
      <PagedTable
        load={load}
        label="SSH keys"
        empty="No SSH keys."
        columns={['Name', 'Type', 'Fingerprint', 'Added', 'Actions']}
        rowKey={(k) => k.id}
        row={(k, ask) => (
          <tr>
            <td>{k.name}</td>
            <td>
              {k.type} ({k.bits} bits)
            </td>
            <td class="mono">{k.fingerprint}</td>
            <td>
              <When iso={k.createdAt} />
            </td>
            <td>
              <button type="button" class="link" onClick={ask} aria-label={`Delete the key ${k.name}`}>
                Delete
              </button>
            </td>
          </tr>
        )}
        confirm={{
          word: (k) => k.name,
          label: (k) => `Delete the SSH key ${k.name}`,
          button: 'Delete the key',
          run: async (k) => {
            await ok(api.DELETE('/v1/me/ssh-keys/{id}', { params: { path: { id: k.id } } }))
            load.reload()
          },
        }}
      />
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
