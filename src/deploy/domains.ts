import { diffChanges } from '../audit/index.js'
import { actorOf, PLATFORM, type Principal } from '../iam/index.js'
import { isUniqueViolation } from '../store/index.js'
import { PLATFORM_CONTEXT, type RequestContext } from '../shared/context.js'
import { ConflictError, NotFoundError } from '../shared/errors.js'
import { randomToken } from '../shared/ids.js'
import { ACCESS_LIMITS, assertDomain } from './access.js'
import {
  CHALLENGE_LABEL,
  CHALLENGE_PATH,
  proveDomain,
  TXT_PREFIX,
  type DomainProofOptions,
} from './domain-proof.js'
import { DEPLOY_ERRORS } from './errors.js'
import type { DomainClaimsTable } from './tables.js'
import type { DeployDeps, Domain, DomainCertificate } from './types.js'

export interface DomainOptions {
  /** How proofs are checked (resolver, HTTP port, private addresses); the system's by default. */
  readonly proof?: DomainProofOptions
  /** Consecutive failed re-checks after which a verified domain stops being routed (default 3). */
  readonly recheckFailures?: number
  /** A routed domain's certificate (the edge's ACME manager or local CA); `none` for all when absent. */
  readonly certificate?: (name: string, routed: boolean) => Promise<DomainCertificate>
}

const NO_CERTIFICATE: DomainCertificate = Object.freeze({
  source: 'none',
  status: 'none',
  issuer: null,
  notAfter: null,
  lastError: null,
})

export const DOMAIN_DEFAULTS = Object.freeze({
  recheckFailures: 3, // a DNS hiccup or a short outage of the app must not unroute a domain
  recheckIntervalMs: 6 * 60 * 60 * 1000, // 6 h between re-checks of a verified domain
})

function toDomain(c: DomainClaimsTable, certificate: DomainCertificate = NO_CERTIFICATE): Domain {
  return {
    name: c.name,
    environmentId: c.environment_id,
    createdAt: c.created_at,
    status: c.verified_at === null ? 'pending' : 'verified',
    verifiedAt: c.verified_at,
    checkedAt: c.checked_at,
    verification: {
      dns: { name: `${CHALLENGE_LABEL}.${c.name}`, type: 'TXT', value: `${TXT_PREFIX}${c.token}` },
      http: { url: `http://${c.name}${CHALLENGE_PATH}${c.token}`, body: c.token },
    },
    certificate,
  }
}

/**
 * Custom domains: claimed per environment, routed only after the workspace proves control of the name (a DNS
 * TXT record `_palisade-challenge.<name>` or an HTTP token under `/.well-known/palisade-challenge/`), and
 * re-checked periodically.
 *
 * Threat: a tenant claiming a name another tenant (or nobody) controls, and learning from the answer whether
 * a name is in use elsewhere. A claim never looks outside its workspace, so adding a name answers the same
 * whoever else claimed it; a verification of a name routed to another tenant's environment answers exactly
 * like a failed proof. A name changes hands only when the holder's periodic re-check fails.
 */
export function createDomains(
  deps: DeployDeps,
  publish: (envId: string) => Promise<unknown>,
  options: DomainOptions = {},
) {
  const { db, audit, clock, tenancy } = deps
  const proof = options.proof ?? {}
  const maxFailures = options.recheckFailures ?? DOMAIN_DEFAULTS.recheckFailures
  const certificateOf = async (c: DomainClaimsTable): Promise<DomainCertificate> =>
    options.certificate ? options.certificate(c.name, c.verified_at !== null) : NO_CERTIFICATE

  const notFound = (): NotFoundError =>
    new NotFoundError(DEPLOY_ERRORS.notFound, 'domain not found', { publicCode: 'not_found' })

  async function claimOf(envId: string, name: string): Promise<DomainClaimsTable | undefined> {
    return db
      .selectFrom('domain_claims')
      .selectAll()
      .where('environment_id', '=', envId)
      .where('name', '=', name)
      .executeTakeFirst()
  }

  /** Stops routing a domain that lost its proof (platform action, audited in the environment's workspace). */
  async function unroute(claim: DomainClaimsTable, now: string): Promise<void> {
    await db.transaction().execute(async (trx) => {
      await trx
        .deleteFrom('environment_domains')
        .where('name', '=', claim.name)
        .where('environment_id', '=', claim.environment_id)
        .execute()
      await trx
        .updateTable('domain_claims')
        .set({ verified_at: null, checked_at: now, failures: 0 })
        .where('environment_id', '=', claim.environment_id)
        .where('name', '=', claim.name)
        .execute()
      const env = await trx
        .selectFrom('environments')
        .select(['project_id'])
        .where('id', '=', claim.environment_id)
        .executeTakeFirst()
      await audit.record(trx, {
        actor: actorOf(PLATFORM),
        action: 'environment.domain.unverify',
        target: { type: 'domain', id: claim.name },
        workspaceId: claim.workspace_id,
        projectId: env?.project_id ?? null,
        environmentId: claim.environment_id,
        changes: diffChanges({ status: 'verified' }, { status: 'pending' }),
        context: PLATFORM_CONTEXT,
      })
    })
    await publish(claim.environment_id)
  }

  return {
    async listDomains(principal: Principal, envId: string): Promise<{ items: Domain[]; nextCursor: null }> {
      await tenancy.environments.load(principal, envId, 'environment.read')
      const rows = await db
        .selectFrom('domain_claims')
        .selectAll()
        .where('environment_id', '=', envId)
        .orderBy('name')
        .execute()
      const items = await Promise.all(rows.map(async (row) => toDomain(row, await certificateOf(row))))
      return { items, nextCursor: null }
    },

    /** Claims a name for the environment: pending (not routed) until `verifyDomain` finds the proof. */
    async addDomain(
      principal: Principal,
      ctx: RequestContext,
      envId: string,
      rawName: string,
    ): Promise<Domain> {
      const env = await tenancy.environments.load(principal, envId, 'domain.manage')
      const name = rawName.trim().toLowerCase().replace(/\.$/, '')
      assertDomain(name, deps.baseDomain)
      const row: DomainClaimsTable = {
        environment_id: envId,
        workspace_id: env.workspace_id,
        name,
        token: randomToken(32),
        created_at: clock.now().toISOString(),
        verified_at: null,
        method: null,
        checked_at: null,
        failures: 0,
      }
      await db.transaction().execute(async (trx) => {
        // Only this workspace's own claims are looked at: whether another tenant claimed the name stays unknown.
        const own = await trx
          .selectFrom('domain_claims')
          .select('environment_id')
          .where('workspace_id', '=', env.workspace_id)
          .where('name', '=', name)
          .executeTakeFirst()
        if (own) {
          throw new ConflictError(
            DEPLOY_ERRORS.domainTaken,
            own.environment_id === envId
              ? `the environment already has the domain ${name}`
              : `the domain ${name} belongs to another environment of this workspace`,
            { publicCode: 'domain_taken' },
          )
        }
        const count = await trx
          .selectFrom('domain_claims')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('environment_id', '=', envId)
          .executeTakeFirstOrThrow()
        if (Number(count.n) >= ACCESS_LIMITS.domainsPerEnvironment) {
          throw new ConflictError(
            DEPLOY_ERRORS.tooMany,
            `an environment holds at most ${ACCESS_LIMITS.domainsPerEnvironment} domains`,
            { publicCode: 'limit_reached' },
          )
        }
        try {
          await trx.insertInto('domain_claims').values(row).execute()
        } catch (error) {
          if (isUniqueViolation(error))
            throw new ConflictError(
              DEPLOY_ERRORS.domainTaken,
              `the environment already has the domain ${name}`,
              {
                publicCode: 'domain_taken',
              },
            )
          throw error
        }
        await audit.record(trx, {
          actor: actorOf(principal),
          action: 'environment.domain.create',
          target: { type: 'domain', id: name },
          workspaceId: env.workspace_id,
          projectId: env.project_id,
          environmentId: envId,
          changes: diffChanges(null, { name, status: 'pending' }),
          context: ctx,
        })
      })
      return toDomain(row)
    },

    /**
     * Looks for the proof now. Proven → routed (status `verified`); not proven, or the name is routed to another
     * tenant's environment → still `pending`, the same answer either way. One audit event: success or failure.
     */
    async verifyDomain(
      principal: Principal,
      ctx: RequestContext,
      envId: string,
      rawName: string,
    ): Promise<Domain> {
      const env = await tenancy.environments.load(principal, envId, 'domain.manage')
      const name = rawName.toLowerCase()
      const claim = await claimOf(envId, name)
      if (!claim) throw notFound()
      const result = await proveDomain(name, claim.token, proof)
      const now = clock.now().toISOString()
      let routed = false
      const after = await db.transaction().execute(async (trx) => {
        let proven = result.ok
        if (proven) {
          const holder = await trx
            .selectFrom('environment_domains')
            .select('environment_id')
            .where('name', '=', name)
            .executeTakeFirst()
          if (holder && holder.environment_id !== envId) proven = false
          else if (!holder) {
            try {
              await trx
                .insertInto('environment_domains')
                .values({ name, environment_id: envId, workspace_id: env.workspace_id, created_at: now })
                .execute()
              routed = true
            } catch (error) {
              if (!isUniqueViolation(error)) throw error
              proven = false // another environment won a concurrent verification
            }
          }
        }
        const next: DomainClaimsTable = proven
          ? {
              ...claim,
              verified_at: claim.verified_at ?? now,
              method: result.ok ? result.method : claim.method,
              checked_at: now,
              failures: 0,
            }
          : { ...claim, checked_at: now }
        await trx
          .updateTable('domain_claims')
          .set({
            verified_at: next.verified_at,
            method: next.method,
            checked_at: now,
            failures: next.failures,
          })
          .where('environment_id', '=', envId)
          .where('name', '=', name)
          .execute()
        await audit.record(trx, {
          actor: actorOf(principal),
          action: 'environment.domain.verify',
          target: { type: 'domain', id: name },
          workspaceId: env.workspace_id,
          projectId: env.project_id,
          environmentId: envId,
          outcome: proven ? 'success' : 'failure',
          changes: diffChanges(
            { status: claim.verified_at === null ? 'pending' : 'verified' },
            { status: next.verified_at === null ? 'pending' : 'verified' },
          ),
          context: ctx,
        })
        return next
      })
      if (routed) await publish(envId)
      return toDomain(after, await certificateOf(after))
    },

    async removeDomain(
      principal: Principal,
      ctx: RequestContext,
      envId: string,
      rawName: string,
    ): Promise<void> {
      const env = await tenancy.environments.load(principal, envId, 'domain.manage')
      const name = rawName.toLowerCase()
      await db.transaction().execute(async (trx) => {
        const res = await trx
          .deleteFrom('domain_claims')
          .where('environment_id', '=', envId)
          .where('name', '=', name)
          .executeTakeFirst()
        if (Number(res.numDeletedRows) === 0) throw notFound()
        await trx
          .deleteFrom('environment_domains')
          .where('environment_id', '=', envId)
          .where('name', '=', name)
          .execute()
        await audit.record(trx, {
          actor: actorOf(principal),
          action: 'environment.domain.delete',
          target: { type: 'domain', id: name },
          workspaceId: env.workspace_id,
          projectId: env.project_id,
          environmentId: envId,
          changes: diffChanges({ name }, null),
          context: ctx,
        })
      })
      await publish(envId)
    },

    /**
     * Re-checks every verified domain not checked for `olderThanMs`: a proof that fails `recheckFailures` times
     * in a row unroutes the domain (platform audit event). Answers how many were checked and unrouted.
     */
    async recheckDomains(olderThanMs = 0): Promise<{ checked: number; unrouted: number }> {
      const cut = new Date(clock.now().getTime() - olderThanMs).toISOString()
      const due = await db
        .selectFrom('domain_claims')
        .selectAll()
        .where('verified_at', 'is not', null)
        .where((eb) => eb.or([eb('checked_at', 'is', null), eb('checked_at', '<=', cut)]))
        .execute()
      let unrouted = 0
      for (const claim of due) {
        const result = await proveDomain(claim.name, claim.token, proof)
        const now = clock.now().toISOString()
        if (result.ok) {
          await db
            .updateTable('domain_claims')
            .set({ checked_at: now, failures: 0, method: result.method })
            .where('environment_id', '=', claim.environment_id)
            .where('name', '=', claim.name)
            .execute()
          continue
        }
        if (claim.failures + 1 >= maxFailures) {
          await unroute(claim, now)
          unrouted++
        } else {
          await db
            .updateTable('domain_claims')
            .set({ checked_at: now, failures: claim.failures + 1 })
            .where('environment_id', '=', claim.environment_id)
            .where('name', '=', claim.name)
            .execute()
        }
      }
      return { checked: due.length, unrouted }
    },
  }
}
