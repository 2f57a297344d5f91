import type { Database, Kysely } from '../store/index.js'
import { ForbiddenError, NotFoundError } from '../shared/errors.js'
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
  const row = await db
    .selectFrom('memberships')
    .innerJoin('workspaces', 'workspaces.id', 'memberships.workspace_id')
    .select(['memberships.role', 'workspaces.require_mfa'])
    .where('memberships.workspace_id', '=', resource.workspaceId)
    .where('memberships.user_id', '=', principal.userId)
    .executeTakeFirst()
  if (!row || !isRole(row.role)) throw hidden
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
 * What a principal may do to its own account (`/v1/me/...`). There is no workspace: the account is
 * always the caller's own, looked up from the credential. API tokens may read with the `read` scope
 * but never manage credentials (a leaked token cannot mint tokens, change the password or 2FA).
 */
export type AccountAction = 'account.read' | 'account.manage'

export function authorizeAccount(principal: Principal, action: AccountAction): { userId: string } {
  if (principal.type === 'platform') {
    throw new ForbiddenError(IAM_ERRORS.forbidden, 'the platform has no account', { publicCode: 'forbidden' })
  }
  if (principal.type === 'token') {
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

/** Workspaces the principal belongs to (for list routes). */
export async function memberWorkspaceIds(
  db: Kysely<Database>,
  principal: Principal,
): Promise<string[] | 'all'> {
  if (principal.type === 'platform') return 'all'
  const rows = await db
    .selectFrom('memberships')
    .select('workspace_id')
    .where('user_id', '=', principal.userId)
    .execute()
  return rows.map((r) => r.workspace_id)
}
