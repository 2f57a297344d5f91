import { useState } from 'preact/hooks'
import { api, ok } from '../../api/client'
import { mayOn } from '../../session'
import {
  ErrorNote,
  Field,
  Form,
  Paged,
  Show,
  StatusBadge,
  TypedConfirm,
  useAction,
  useLoad,
  When,
} from '../../ui'
import type { EnvTabProps } from './types'

/** Custom domains: add, prove ownership (DNS TXT or HTTP file), check, remove; how their certificate is issued. */
export function Domains({ env, role }: EnvTabProps) {
  const id = env.id
  const canManage = mayOn(role, 'developer', env.criticality)
  const load = useLoad(() => ok(api.GET('/v1/environments/{id}/domains', { params: { path: { id } } })), [id])
  const [name, setName] = useState('')
  const add = useAction(async () => {
    await ok(api.POST('/v1/environments/{id}/domains', { params: { path: { id } }, body: { name } }))
    setName('')
    load.reload()
  })
  const verify = useAction(async (domain: string) => {
    await ok(
      api.POST('/v1/environments/{id}/domains/{name}/verify', { params: { path: { id, name: domain } } }),
    )
    load.reload()
  })
  const [removing, setRemoving] = useState<string | null>(null)
  const remove = useAction(async (domain: string) => {
    await ok(api.DELETE('/v1/environments/{id}/domains/{name}', { params: { path: { id, name: domain } } }))
    setRemoving(null)
    load.reload()
  })
  return (
    <section aria-labelledby="domains-h">
      <h2 id="domains-h">Domains and certificates</h2>
      <p>
        Default host <span class="mono">{env.host}</span>: certificate from Palisade's local CA. A custom
        domain gets its certificate from ACME (HTTP-01) once it is verified and points at the edge, when the
        platform has an ACME directory configured (else from the local CA); a failed order is retried, and the
        local CA's certificate is served meanwhile.
      </p>
      <Show load={load}>
        {(page) =>
          page.items.length === 0 ? (
            <p class="muted">No custom domains.</p>
          ) : (
            <Paged items={page.items} label="Domains">
              {(items) => (
                <table data-testid="domains-table">
                  <thead>
                    <tr>
                      <th scope="col">Domain</th>
                      <th scope="col">Status</th>
                      <th scope="col">Prove ownership with</th>
                      <th scope="col">Checked</th>
                      <th scope="col">Certificate</th>
                      {canManage ? <th scope="col">Actions</th> : null}
                    </tr>
                  </thead>
                  <tbody>
                    {items.map((d) => (
                      <tr key={d.name}>
                        <td class="mono">{d.name}</td>
                        <td>
                          <StatusBadge status={d.status} />
                          {d.verifiedAt ? (
                            <div class="muted small">
                              since <When iso={d.verifiedAt} />
                            </div>
                          ) : null}
                        </td>
                        <td class="small">
                          <div>
                            DNS {d.verification.dns.type} <span class="mono">{d.verification.dns.name}</span>{' '}
                            = <span class="mono">{d.verification.dns.value}</span>
                          </div>
                          <div>
                            or HTTP <span class="mono">{d.verification.http.url}</span> answering{' '}
                            <span class="mono">{d.verification.http.body}</span>
                          </div>
                        </td>
                        <td>
                          <When iso={d.checkedAt} />
                        </td>
                        <td class="small" data-testid={`certificate-${d.name}`}>
                          {d.certificate.source === 'none' ? (
                            <span class="muted">none until verified</span>
                          ) : (
                            <>
                              <div>
                                {d.certificate.source === 'acme' ? 'ACME' : 'local CA'}{' '}
                                <StatusBadge status={d.certificate.status} />
                              </div>
                              {d.certificate.issuer ? (
                                <div class="muted">
                                  by <span class="mono">{d.certificate.issuer}</span>
                                </div>
                              ) : null}
                              {d.certificate.notAfter ? (
                                <div class="muted">
                                  expires <When iso={d.certificate.notAfter} />
                                </div>
                              ) : null}
                              {d.certificate.lastError ? (
                                <div class="error">last order failed: {d.certificate.lastError}</div>
                              ) : null}
                            </>
                          )}
                        </td>
                        {canManage ? (
                          <td class="buttons">
                            {d.status !== 'verified' ? (
                              <button
                                type="button"
                                class="link"
                                disabled={verify.busy}
                                onClick={() => void verify.run(d.name)}
                                aria-label={`Check now: ${d.name}`}
                              >
                                Check now
                              </button>
                            ) : null}
                            <button
                              type="button"
                              class="link"
                              onClick={() => setRemoving(d.name)}
                              aria-label={`Remove ${d.name}`}
                            >
                              Remove
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
      <ErrorNote error={verify.error} />
      {removing ? (
        <TypedConfirm
          word={removing}
          label={`Remove the domain ${removing}`}
          button="Remove the domain"
          busy={remove.busy}
          error={remove.error}
          onConfirm={() => void remove.run(removing)}
          onCancel={() => setRemoving(null)}
        />
      ) : null}
      {canManage ? (
        <Form class="panel inline" onSubmit={() => void add.run()} label="New domain">
          <Field label="Domain name" name="name" value={name} onInput={setName} required error={add.error} />
          <button type="submit" disabled={add.busy}>
            Add domain
          </button>
          <ErrorNote error={add.error} />
        </Form>
      ) : null}
    </section>
  )
}
