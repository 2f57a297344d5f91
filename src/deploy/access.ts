import { formatCidr, parseCidr } from '../shared/cidr.js'
import { diffChanges } from '../audit/index.js'
import { actorOf, hashPassword, type Principal } from '../iam/index.js'
import type { RequestContext } from '../shared/context.js'
import { InvalidError } from '../shared/errors.js'
import { DEPLOY_ERRORS } from './errors.js'
import type { AccessInput, AccessPatch, DeployDeps, EnvironmentAccess } from './types.js'

export const ACCESS_LIMITS = Object.freeze({
  ipAllow: 200,
  ipGroups: 50,
  domainsPerEnvironment: 20,
  usernameLength: 64,
  passwordLength: 256,
})

function invalid(field: string, message: string): never {
  throw new InvalidError(DEPLOY_ERRORS.invalidField, `${field} ${message}`, { details: [{ field, message }] })
}

/** Parses an address or CIDR and returns its canonical text (`10.0.0.0/8`, `2001:db8::/32`). */
export function normaliseCidr(text: string, field: string): string {
  const cidr = parseCidr(text)
  return cidr ? formatCidr(cidr) : invalid(field, 'must be an IP address or CIDR such as 203.0.113.0/24')
}

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/

/**
 * A custom domain: lowercase DNS name with at least two labels, no IP literal, no wildcard, and never
 * under the platform's base domain (those names are the platform's: `<env>.<project>.<ws>.<base>`).
 */
export function assertDomain(name: string, baseDomain: string): void {
  if (name.length > 253) invalid('name', 'must be at most 253 characters')
  const labels = name.split('.')
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l)))
    invalid('name', 'must be a lowercase host name such as shop.example.com')
  if (/^[0-9]+$/.test(labels[labels.length - 1] as string)) invalid('name', 'must not be an IP address')
  if (name === baseDomain || name.endsWith('.' + baseDomain))
    invalid('name', `must not be under the platform domain ${baseDomain}`)
}

export function createAccess(deps: DeployDeps, publish: (envId: string) => Promise<unknown>) {
  const { db, audit, clock, tenancy } = deps

  async function rowOf(q: typeof db, envId: string) {
    return q
      .selectFrom('environment_access')
      .selectAll()
      .where('environment_id', '=', envId)
      .executeTakeFirst()
  }

  async function read(envId: string): Promise<EnvironmentAccess> {
    const row = await rowOf(db, envId)
    if (!row) return { ipAllow: [], ipGroups: [], password: null }
    return {
      ipAllow: JSON.parse(row.ip_allow) as string[],
      ipGroups: JSON.parse(row.ip_groups) as string[],
      password: row.basic_username ? { username: row.basic_username } : null,
    }
  }

  /** Validates the fields present, then writes them over the stored rules (absent ones kept) with one audit event. */
  async function change(
    principal: Principal,
    ctx: RequestContext,
    envId: string,
    input: AccessPatch,
  ): Promise<EnvironmentAccess> {
    const env = await tenancy.environments.load(principal, envId, 'access.manage')
    if (input.ipAllow === undefined && input.ipGroups === undefined && input.password === undefined)
      invalid('body', 'must name at least one of ipAllow, ipGroups and password')
    if (input.ipAllow && input.ipAllow.length > ACCESS_LIMITS.ipAllow)
      invalid('ipAllow', `at most ${ACCESS_LIMITS.ipAllow} entries`)
    if (input.ipGroups && input.ipGroups.length > ACCESS_LIMITS.ipGroups)
      invalid('ipGroups', `at most ${ACCESS_LIMITS.ipGroups} entries`)
    const ipAllow = input.ipAllow && [
      ...new Set(input.ipAllow.map((c, i) => normaliseCidr(c, `ipAllow[${i}]`))),
    ]
    const ipGroups = input.ipGroups && [...new Set(input.ipGroups)]
    if (ipGroups && ipGroups.length > 0) {
      // Groups are looked up in the environment's own workspace: another tenant's group id is "unknown".
      const found = await db
        .selectFrom('ip_groups')
        .select('id')
        .where('workspace_id', '=', env.workspace_id)
        .where('id', 'in', ipGroups)
        .execute()
      const known = new Set(found.map((r) => r.id))
      const missing = ipGroups.find((g) => !known.has(g))
      if (missing !== undefined)
        invalid('ipGroups', `holds an unknown ip-group ${JSON.stringify(missing.slice(0, 100))}`)
    }
    let basic: { username: string | null; hash: string | null } | undefined
    if (input.password === null) basic = { username: null, hash: null }
    else if (input.password) {
      const { username: u, password: p } = input.password
      if (
        u.length < 1 ||
        u.length > ACCESS_LIMITS.usernameLength ||
        u.includes(':') ||
        /[\x00-\x1f\x7f]/.test(u)
      ) {
        invalid(
          'password.username',
          `must be 1–${ACCESS_LIMITS.usernameLength} printable characters without ":"`,
        )
      }
      if (p.length < 8 || p.length > ACCESS_LIMITS.passwordLength)
        invalid('password.password', `must be 8–${ACCESS_LIMITS.passwordLength} characters`)
      basic = { username: u, hash: await hashPassword(p) }
    }
    const now = clock.now().toISOString()
    await db.transaction().execute(async (trx) => {
      // Read inside the transaction: the fields this change leaves out are written back as they are now.
      const row = await rowOf(trx, envId)
      const before = {
        ipAllow: row ? (JSON.parse(row.ip_allow) as string[]) : [],
        ipGroups: row ? (JSON.parse(row.ip_groups) as string[]) : [],
        username: row?.basic_username ?? null,
        hash: row?.basic_password_hash ?? null,
      }
      const after = {
        ipAllow: ipAllow ?? before.ipAllow,
        ipGroups: ipGroups ?? before.ipGroups,
        ...(basic ?? { username: before.username, hash: before.hash }),
      }
      const values = {
        environment_id: envId,
        ip_allow: JSON.stringify(after.ipAllow),
        ip_groups: JSON.stringify(after.ipGroups),
        basic_username: after.username,
        basic_password_hash: after.hash,
        updated_at: now,
      }
      if (row)
        await trx.updateTable('environment_access').set(values).where('environment_id', '=', envId).execute()
      else await trx.insertInto('environment_access').values(values).execute()
      const audited = ({ hash, ...rest }: typeof before) => ({ ...rest, password: hash ? 'set' : null })
      await audit.record(trx, {
        actor: actorOf(principal),
        action: 'environment.access.update',
        target: { type: 'environment', id: envId },
        workspaceId: env.workspace_id,
        projectId: env.project_id,
        environmentId: envId,
        // A new password shows as a change (never its value or hash); a kept one does not.
        changes: diffChanges(
          audited(before),
          { ...audited(after), ...(basic?.hash ? { passwordValue: 'x' } : {}) },
          ['passwordValue'],
        ),
        context: ctx,
      })
    })
    await publish(envId)
    return read(envId)
  }

  return {
    async getAccess(principal: Principal, envId: string): Promise<EnvironmentAccess> {
      await tenancy.environments.load(principal, envId, 'environment.read')
      return read(envId)
    },

    /** Replaces every rule (PUT). */
    setAccess: (principal: Principal, ctx: RequestContext, envId: string, input: AccessInput) =>
      change(principal, ctx, envId, input),

    /** Changes only the rules named in `patch` (PATCH): a password left out is kept. */
    updateAccess: (principal: Principal, ctx: RequestContext, envId: string, patch: AccessPatch) =>
      change(principal, ctx, envId, patch),
  }
}
