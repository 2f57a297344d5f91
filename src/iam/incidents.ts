import type { AuditLog } from '../audit/index.js'
import type { Clock } from '../shared/clock.js'
import type { RequestContext } from '../shared/context.js'
import type { Database, Kysely } from '../store/index.js'
import { authorize } from './authorize.js'
import type { Mailer } from './mailer.js'
import { findWorkspaceId } from './members.js'
import { actorOf, type Principal } from './principal.js'

/**
 * What an incident response may do, in this order:
 * - `restrict`: every environment of the workspace goes into maintenance (the edge answers 503) until an
 *   admin runs `maintenance-off` on it;
 * - `revoke-credentials`: every session and API token of every member stops acting *in this workspace*
 *   (the caller's own session excepted, so the response can go on; the same credentials keep their access to
 *   other workspaces, which this workspace's admins do not govern), and pending invitations are withdrawn;
 * - `require-mfa`: the workspace requires two-factor authentication from now on;
 * - `notify`: every member gets an e-mail with the reason.
 */
export const INCIDENT_ACTIONS = ['restrict', 'revoke-credentials', 'require-mfa', 'notify'] as const
export type IncidentAction = (typeof INCIDENT_ACTIONS)[number]

export interface IncidentInput {
  readonly actions: readonly IncidentAction[]
  readonly reason: string
}

export interface IncidentReport {
  readonly workspaceId: string
  readonly actions: readonly IncidentAction[]
  readonly reason: string
  readonly at: string
  readonly restrictedEnvironments: number
  readonly revokedSessions: number
  readonly revokedTokens: number
  readonly withdrawnInvitations: number
  readonly notified: number
}

export interface IncidentsDeps {
  readonly db: Kysely<Database>
  readonly audit: AuditLog
  readonly clock: Clock
  readonly mailer: Mailer
  /** Puts an environment in maintenance mode (the deploy capability); absent in API-only set-ups. */
  readonly restrictEnvironment?: (environmentId: string) => Promise<void>
}

export function createIncidents(deps: IncidentsDeps) {
  const { db, audit, clock } = deps

  return {
    /** Carries out an incident response for a workspace (owners and admins); one audit event records it all. */
    async create(
      principal: Principal,
      ctx: RequestContext,
      ref: string,
      input: IncidentInput,
    ): Promise<IncidentReport> {
      const workspaceId = await findWorkspaceId(db, ref)
      await authorize(db, principal, 'incident.create', { type: 'workspace', workspaceId })
      const actions = INCIDENT_ACTIONS.filter((a) => input.actions.includes(a))
      const at = clock.now().toISOString()
      const members = await db
        .selectFrom('memberships')
        .innerJoin('users', 'users.id', 'memberships.user_id')
        .select(['users.id', 'users.email'])
        .where('memberships.workspace_id', '=', workspaceId)
        .execute()
      const environments = await db
        .selectFrom('environments')
        .select('id')
        .where('workspace_id', '=', workspaceId)
        .execute()
      const workspace = await db
        .selectFrom('workspaces')
        .select('name')
        .where('id', '=', workspaceId)
        .executeTakeFirstOrThrow()
      const userIds = members.map((m) => m.id)
      const keepSession = principal.type === 'user' ? principal.sessionId : ''

      const counts = await db.transaction().execute(async (trx) => {
        let revokedSessions = 0
        let revokedTokens = 0
        let withdrawnInvitations = 0
        if (actions.includes('revoke-credentials') && userIds.length > 0) {
          // Ended for this workspace only: an admin here has no say over the members' access to other
          // workspaces (the same session may administer another tenant). See docs/identity.md.
          const sessions = await trx
            .selectFrom('sessions')
            .select('id')
            .where('user_id', 'in', userIds)
            .where('revoked_at', 'is', null)
            .where('expires_at', '>', at)
            .where('id', '!=', keepSession)
            .execute()
          const tokens = await trx
            .selectFrom('api_tokens')
            .select('id')
            .where('user_id', 'in', userIds)
            .where('revoked_at', 'is', null)
            .execute()
          const ids = [...sessions, ...tokens].map((c) => c.id)
          for (let i = 0; i < ids.length; i += 500) {
            await trx
              .insertInto('credential_revocations')
              .values(
                ids
                  .slice(i, i + 500)
                  .map((id) => ({ workspace_id: workspaceId, credential_id: id, revoked_at: at })),
              )
              .onConflict((oc) => oc.doNothing())
              .execute()
          }
          const invitations = await trx
            .deleteFrom('invitations')
            .where('workspace_id', '=', workspaceId)
            .where('accepted_at', 'is', null)
            .executeTakeFirst()
          revokedSessions = sessions.length
          revokedTokens = tokens.length
          withdrawnInvitations = Number(invitations.numDeletedRows)
        }
        if (actions.includes('require-mfa')) {
          await trx.updateTable('workspaces').set({ require_mfa: 1 }).where('id', '=', workspaceId).execute()
        }
        const restrict = actions.includes('restrict') && deps.restrictEnvironment !== undefined
        const result = {
          restrictedEnvironments: restrict ? environments.length : 0,
          revokedSessions,
          revokedTokens,
          withdrawnInvitations,
          notified: actions.includes('notify') ? members.length : 0,
        }
        await audit.record(trx, {
          actor: actorOf(principal),
          action: 'workspace.incident.create',
          target: { type: 'workspace', id: workspaceId },
          workspaceId,
          changes: {
            actions: { before: null, after: actions.join(',') },
            reason: { before: null, after: input.reason },
            ...Object.fromEntries(Object.entries(result).map(([k, v]) => [k, { before: null, after: v }])),
          },
          context: ctx,
        })
        return result
      })

      // After the commit: the edge and the mail server are outside the transaction.
      if (counts.restrictedEnvironments > 0)
        for (const e of environments) await deps.restrictEnvironment!(e.id)
      if (actions.includes('notify')) {
        for (const m of members) {
          await deps.mailer.send({
            to: m.email,
            subject: `[Palisade] Security incident in the ${workspace.name} workspace`,
            text:
              `An administrator of the ${workspace.name} workspace declared a security incident.\n\n` +
              `Reason: ${input.reason}\n\nActions taken: ${actions.join(', ')}.\n` +
              (actions.includes('revoke-credentials')
                ? `Your sessions and API tokens no longer give access to the ${workspace.name} workspace: sign in again and create new tokens.\n`
                : '') +
              (actions.includes('require-mfa')
                ? 'Two-factor authentication is now required in this workspace.\n'
                : ''),
          })
        }
      }
      return { workspaceId, actions, reason: input.reason, at, ...counts }
    },
  }
}

export type Incidents = ReturnType<typeof createIncidents>
