import type { Database, Kysely } from '../store/index.js'
import { ForbiddenError, NotFoundError, UnauthenticatedError } from '../shared/errors.js'
import { IAM_ERRORS } from './errors.js'
import type { Principal } from './principal.js'
import { RULES, isRole, roleAtLeast, scopeCovers, type Action, type Role } from './roles.js'

/** What is being acted on. The workspace id always comes from the stored object, never from the request. */
export interface ResourceRef {
  /** Noun used in the not-found message (`project`, `environment`…). */
  readonly type: string
  readonly workspaceId: string
  /** The target environment's criticality, when the action touches one. */
  readonly criticality?: string
}

export interface Grant {
  readonly role: Role | 'platform'
}

/**
 * The one authorization decision for every route (deny by default):
 * - not a member of the resource's workspace → 404 (the object is invisible, ASVS 8.2.2);
 * - the credential was revoked in that workspace by an incident → 401 `credentials_revoked`;
 * - workspace requires 2FA and the user has none → 403 `mfa_required`;
 * - role below the action's minimum (higher minimum on production) → 403;
 * - API token without the scope → 403.
 */
export async function authorize(
  db: Kysely<Database>,
  principal: Principal,
  action: Action,
  resource: ResourceRef,
): Promise<Grant> {
  if (principal.type === 'platform') return { role: 'platform' }
  const rule = RULES[action] as (typeof RULES)[Action] | undefined
  const hidden = new NotFoundError('PAL_TENANCY_NOT_FOUND', `${resource.type} not found`, {
    publicCode: 'not_found',
  })
  if (!rule)
    throw new ForbiddenError(IAM_ERRORS.forbidden, 'action is not allowed', { publicCode: 'forbidden' })
  const credentialId = credentialIdOf(principal)
  const row = await db
    .selectFrom('memberships')
    .innerJoin('workspaces', 'workspaces.id', 'memberships.workspace_id')
    .leftJoin('credential_revocations', (join) =>
      join
        .onRef('credential_revocations.workspace_id', '=', 'memberships.workspace_id')
        .on('credential_revocations.credential_id', '=', credentialId),
    )
    .select(['memberships.role', 'workspaces.require_mfa', 'credential_revocations.revoked_at'])
    .where('memberships.workspace_id', '=', resource.workspaceId)
    .where('memberships.user_id', '=', principal.userId)
    .executeTakeFirst()
  if (!row || !isRole(row.role)) throw hidden
  // An incident in this workspace ended this credential here (and only here: see docs/identity.md).
  if (row.revoked_at !== null) {
    throw new UnauthenticatedError(
      IAM_ERRORS.credentialRevoked,
      'this session or token was ended for this workspace by an incident response: sign in again (or create a new token)',
      { publicCode: 'credentials_revoked' },
    )
  }
  if (row.require_mfa === 1 && !principal.mfa) {
    throw new ForbiddenError(IAM_ERRORS.mfaRequired, 'this workspace requires two-factor authentication', {
      publicCode: 'mfa_required',
    })
  }
  const min =
    resource.criticality === 'production' && rule.productionMinRole ? rule.productionMinRole : rule.minRole
  if (!roleAtLeast(row.role, min)) {
    throw new ForbiddenError(IAM_ERRORS.forbidden, `role ${row.role} may not do ${action}`, {
      publicCode: 'forbidden',
    })
  }
  if (principal.type === 'token' && !scopeCovers(principal.scopes, rule.scope)) {
    throw new ForbiddenError(IAM_ERRORS.scopeMissing, `token lacks the ${rule.scope} scope`, {
      publicCode: 'forbidden',
    })
  }
  return { role: row.role }
}

/**
 * `authorize()` as a predicate, for reads that show less rather than refuse (a job's command text) and for
 * work that skips what the caller may not touch (a push's production environments). Only a refusal of an
 * otherwise visible object is `false`; an invisible one still throws `not_found`.
 */
export async function isAllowed(
  db: Kysely<Database>,
  principal: Principal,
  action: Action,
  resource: ResourceRef,
): Promise<boolean> {
  try {
    await authorize(db, principal, action, resource)
    return true
  } catch (error) {
    if (error instanceof ForbiddenError) return false
    throw error
  }
}

/**
 * What a principal may do to its own account (`/v1/me/...`). There is no workspace: the account is
 * always the caller's own, looked up from the credential. API tokens may read with the `read` scope
 * but never manage credentials (a leaked token cannot mint tokens, change the password or 2FA), and create
 * workspaces only with the `admin` scope.
 */
export type AccountAction = 'account.read' | 'account.manage' | 'workspace.create'

export function authorizeAccount(principal: Principal, action: AccountAction): { userId: string } {
  if (principal.type === 'platform') {
    throw new ForbiddenError(IAM_ERRORS.forbidden, 'the platform has no account', { publicCode: 'forbidden' })
  }
  if (principal.type === 'token') {
    // A new workspace is a new tenant with its owner's full power: a session, or a token made for
    // administration. A leaked read or deploy token must not mint tenants (nor squat names).
    if (action === 'workspace.create') {
      if (!principal.scopes.includes('admin')) {
        throw new ForbiddenError(
          IAM_ERRORS.scopeMissing,
          'creating a workspace needs a signed-in session or an admin-scoped token',
          {
            publicCode: 'forbidden',
          },
        )
      }
      return { userId: principal.userId }
    }
    if (action !== 'account.read') {
      throw new ForbiddenError(
        IAM_ERRORS.sessionRequired,
        'account settings need a signed-in session, not an API token',
        { publicCode: 'session_required' },
      )
    }
    if (!scopeCovers(principal.scopes, 'read')) {
      throw new ForbiddenError(IAM_ERRORS.scopeMissing, 'token lacks the read scope', {
        publicCode: 'forbidden',
      })
    }
  }
  return { userId: principal.userId }
}

/** The session's or API token's id (what an incident revokes per workspace). */
function credentialIdOf(principal: Principal & { type: 'user' | 'token' }): string {
  return principal.type === 'user' ? principal.sessionId : principal.tokenId
}

/** Workspaces the principal belongs to and its credential still acts in (for list routes). */
export async function memberWorkspaceIds(
  db: Kysely<Database>,
  principal: Principal,
): Promise<string[] | 'all'> {
  if (principal.type === 'platform') return 'all'
  const rows = await db
    .selectFrom('memberships')
    .leftJoin('credential_revocations', (join) =>
      join
        .onRef('credential_revocations.workspace_id', '=', 'memberships.workspace_id')
        .on('credential_revocations.credential_id', '=', credentialIdOf(principal)),
    )
    .select('memberships.workspace_id')
    .where('memberships.user_id', '=', principal.userId)
    .where('credential_revocations.revoked_at', 'is', null)
    .execute()
  return rows.map((r) => r.workspace_id)
}
