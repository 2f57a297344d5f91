import { Command } from 'commander'
import { ApiError, createClient } from '../client.js'
import { done, print, stdio, wantsJson } from '../output.js'
import { resolveEnvironment } from '../resolve.js'

interface Domain {
  name: string
  status: 'pending' | 'verified'
  verifiedAt: string | null
  checkedAt: string | null
  verification: { dns: { name: string; type: string; value: string }; http: { url: string; body: string } }
  certificate?: {
    source: string
    status: string
    issuer: string | null
    notAfter: string | null
    lastError: string | null
  }
}

interface Scope {
  project?: string
  workspace?: string
}

const columns: ReadonlyArray<[string, (d: Domain) => string]> = [
  ['name', (d) => d.name],
  ['status', (d) => d.status],
  ['verified', (d) => d.verifiedAt ?? '-'],
  ['checked', (d) => d.checkedAt ?? '-'],
  // The certificate served for the name: acme or local_ca, its state and expiry, why the last order failed.
  ['certificate', (d) => (d.certificate ? `${d.certificate.source} ${d.certificate.status}` : '-')],
  ['expires', (d) => d.certificate?.notAfter ?? '-'],
  ['certificate error', (d) => d.certificate?.lastError ?? '-'],
]

const scope = (c: Command): Command =>
  c.option('--project <project>', 'project name or id').option('--workspace <ws>', 'workspace name or id')

/** How to prove control, printed after `add` and after a `verify` that found no proof. */
function howToProve(d: Domain): string {
  return (
    `Prove control of ${d.name} with either:\n` +
    `  DNS:  ${d.verification.dns.name} ${d.verification.dns.type} "${d.verification.dns.value}"\n` +
    `  HTTP: ${d.verification.http.url} answering ${d.verification.http.body}\n` +
    `then run: palisade domains verify <env> ${d.name}`
  )
}

export function domainsCommand(): Command {
  const cmd = new Command('domains').description(
    'custom domains: routed once you prove control by DNS TXT or HTTP token, re-checked periodically',
  )
  scope(cmd.command('list <env>').description('domains of an environment and their status')).action(
    async (env: string, o: Scope, c: Command) => {
      const client = createClient()
      const id = await resolveEnvironment(client, env, o)
      print(c, await client.request<{ items: Domain[] }>('GET', `/v1/environments/${id}/domains`), columns)
    },
  )
  scope(cmd.command('add <env> <name>').description('claim a domain (pending until verified)')).action(
    async (env: string, name: string, o: Scope, c: Command) => {
      const client = createClient()
      const id = await resolveEnvironment(client, env, o)
      const d = await client.request<Domain>('POST', `/v1/environments/${id}/domains`, { name })
      done(c, `Claimed ${d.name} (pending).\n${howToProve(d)}`, d)
    },
  )
  scope(
    cmd
      .command('verify <env> <name>')
      .description('look for the proof now; exits 1 while the domain is pending'),
  ).action(async (env: string, name: string, o: Scope, c: Command) => {
    const client = createClient()
    const id = await resolveEnvironment(client, env, o)
    const d = await client.request<Domain>(
      'POST',
      `/v1/environments/${id}/domains/${encodeURIComponent(name)}/verify`,
    )
    if (d.status === 'verified') {
      done(c, `${d.name} is verified and routed.`, d)
      return
    }
    if (!wantsJson(c)) stdio.out(howToProve(d))
    throw new ApiError(0, 'domain_not_verified', `${d.name} is not verified yet: no proof found`, undefined)
  })
  scope(cmd.command('remove <env> <name>').description('stop routing and forget the domain')).action(
    async (env: string, name: string, o: Scope, c: Command) => {
      const client = createClient()
      const id = await resolveEnvironment(client, env, o)
      await client.request('DELETE', `/v1/environments/${id}/domains/${encodeURIComponent(name)}`)
      done(c, `Removed ${name}.`)
    },
  )
  return cmd
}
