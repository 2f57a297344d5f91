import { diffChanges, type AuditLog } from '../audit/index.js'
import type { Database, Dialect, Kysely, Transaction } from '../store/index.js'
import type { Clock } from '../shared/clock.js'
import type { RequestContext } from '../shared/context.js'
import {
  ConflictError,
  ForbiddenError,
  InvalidError,
  NotFoundError,
  UnavailableError,
} from '../shared/errors.js'
import { sha256Hex } from '../shared/hash.js'
import { newId, newSecret } from '../shared/ids.js'
import { authorize } from './authorize.js'
import { IAM_ERRORS } from './errors.js'
import type { Mailer } from './mailer.js'
import { actorOf, type Principal } from './principal.js'
import { isRole, type Role } from './roles.js'
import { insertUser, normaliseEmail } from './users.js'

export const INVITATION_PREFIX = 'inv_'
/** Invitation links are bearer secrets: short-lived and single-use. */
export const INVITATION_DAYS = 7

export interface Member {
  readonly userId: string
  readonly email: string
  readonly role: Role
  readonly totpEnabled: boolean
  readonly createdAt: string
}

export interface Invitation {
  readonly id: string
  readonly workspaceId: string
  readonly email: string
  readonly role: Role
  readonly createdAt: string
  readonly expiresAt: string
}

export interface MembersDeps {
  readonly db: Kysely<Database>
  readonly dialect: Dialect
  readonly clock: Clock
  readonly audit: AuditLog
  readonly mailer: Mailer
  readonly publicUrl: string
}

/** A workspace path segment is its id or its name (resolved here: iam cannot import tenancy). */
export async function findWorkspaceId(db: Kysely<Database>, ref: string): Promise<string> {
  const row =
    ref.length > 100
      ? undefined
      : await db
          .selectFrom('workspaces')
          .select('id')
          .where((eb) => eb.or([eb('id', '=', ref), eb('name', '=', ref)]))
          .executeTakeFirst()
  if (!row)
    throw new NotFoundError(IAM_ERRORS.workspaceNotFound, 'workspace not found', { publicCode: 'not_found' })
  return row.id
}

function assertRole(role: string): Role {
  if (!isRole(role))
    throw new InvalidError('PAL_IAM_ROLE_INVALID', 'role must be owner, admin, developer or viewer', {
      details: [{ field: 'role', message: 'unknown role' }],
    })
  return role
}

const ownerOnly = (): never => {
  throw new ForbiddenError(IAM_ERRORS.ownerOnly, 'only an owner can grant, change or remove the owner role', {
    publicCode: 'forbidden',
  })
}

export function createMembers(deps: MembersDeps) {
  const { db, clock, audit } = deps
  const notFound = (): never => {
    throw new NotFoundError(IAM_ERRORS.memberNotFound, 'member not found', { publicCode: 'not_found' })
  }

  /** Locks the workspace's owner rows (PostgreSQL) so two owners cannot demote each other at once. */
  async function ownerCount(trx: Transaction<Database>, workspaceId: string): Promise<number> {
    const q = trx
      .selectFrom('memberships')
      .select('user_id')
      .where('workspace_id', '=', workspaceId)
      .where('role', '=', 'owner')
    return (await (deps.dialect === 'postgres' ? q.forUpdate() : q).execute()).length
  }

  async function target(
    trx: Transaction<Database>,
    workspaceId: string,
    userId: string,
  ): Promise<{ role: string; email: string }> {
    if (userId.length > 100) return notFound()
    const row = await trx
      .selectFrom('memberships')
      .innerJoin('users', 'users.id', 'memberships.user_id')
      .select(['memberships.role', 'users.email'])
      .where('memberships.workspace_id', '=', workspaceId)
      .where('memberships.user_id', '=', userId)
      .executeTakeFirst()
    return row ?? notFound()
  }

  return {
    async list(principal: Principal, wsRef: string): Promise<{ items: Member[]; nextCursor: null }> {
      const workspaceId = await findWorkspaceId(db, wsRef)
      await authorize(db, principal, 'member.read', { type: 'workspace', workspaceId })
      const rows = await db
        .selectFrom('memberships')
        .innerJoin('users', 'users.id', 'memberships.user_id')
        .select([
          'memberships.user_id',
          'users.email',
          'memberships.role',
          'users.totp_enabled',
          'memberships.created_at',
        ])
        .where('memberships.workspace_id', '=', workspaceId)
        .orderBy('users.email')
        .execute()
      return {
        items: rows.map((r) => ({
          userId: r.user_id,
          email: r.email,
          role: assertRole(r.role),
          totpEnabled: r.totp_enabled === 1,
          createdAt: r.created_at,
        })),
        nextCursor: null,
      }
    },

    /**
     * Pending invitations of a workspace (not accepted, not expired), for those who may invite: the e-mail
     * addresses of people who are not members yet are the inviters' business.
     */
    async invitations(
      principal: Principal,
      wsRef: string,
    ): Promise<{ items: Invitation[]; nextCursor: null }> {
      const workspaceId = await findWorkspaceId(db, wsRef)
      await authorize(db, principal, 'member.manage', { type: 'workspace', workspaceId })
      const rows = await db
        .selectFrom('invitations')
        .select(['id', 'workspace_id', 'email', 'role', 'created_at', 'expires_at'])
        .where('workspace_id', '=', workspaceId)
        .where('accepted_at', 'is', null)
        .where('expires_at', '>', clock.now().toISOString())
        .orderBy('email')
        .execute()
      return {
        items: rows.map((r) => ({
          id: r.id,
          workspaceId: r.workspace_id,
          email: r.email,
          role: assertRole(r.role),
          createdAt: r.created_at,
          expiresAt: r.expires_at,
        })),
        nextCursor: null,
      }
    },

    /**
     * What a still-valid invitation link is for (the page the e-mailed link opens): the token is the
     * credential, so whoever holds it may see the workspace, address and role it names; `undefined` for
     * a link that is unknown, expired or used. Changes nothing.
     */
    async describe(
      token: string,
    ): Promise<
      { workspace: string; email: string; role: Role; expiresAt: string; accountExists: boolean } | undefined
    > {
      if (!token.startsWith(INVITATION_PREFIX) || token.length > 200) return undefined
      const inv = await db
        .selectFrom('invitations')
        .innerJoin('workspaces', 'workspaces.id', 'invitations.workspace_id')
        .select([
          'workspaces.name as workspace',
          'invitations.email',
          'invitations.role',
          'invitations.expires_at',
          'invitations.accepted_at',
        ])
        .where('invitations.token_hash', '=', sha256Hex(token))
        .executeTakeFirst()
      if (!inv || inv.accepted_at !== null || inv.expires_at <= clock.now().toISOString()) return undefined
      const user = await db.selectFrom('users').select('id').where('email', '=', inv.email).executeTakeFirst()
      return {
        workspace: inv.workspace,
        email: inv.email,
        role: assertRole(inv.role),
        expiresAt: inv.expires_at,
        accountExists: user !== undefined,
      }
    },

    /** Invites by e-mail; the link `<publicUrl>/invitations/<token>` is mailed and never returned by the API. */
    async invite(
      principal: Principal,
      ctx: RequestContext,
      wsRef: string,
      input: { email: string; role: string },
    ): Promise<Invitation> {
      const workspaceId = await findWorkspaceId(db, wsRef)
      const grant = await authorize(db, principal, 'member.manage', { type: 'workspace', workspaceId })
      const role = assertRole(input.role)
      if (role === 'owner' && grant.role !== 'owner' && grant.role !== 'platform') ownerOnly()
      const email = normaliseEmail(input.email)
      const existing = await db
        .selectFrom('memberships')
        .innerJoin('users', 'users.id', 'memberships.user_id')
        .select('users.id')
        .where('memberships.workspace_id', '=', workspaceId)
        .where('users.email', '=', email)
        .executeTakeFirst()
      if (existing)
        throw new ConflictError(IAM_ERRORS.memberExists, `${email} is already a member`, {
          publicCode: 'conflict',
        })
      const ws = await db
        .selectFrom('workspaces')
        .select('name')
        .where('id', '=', workspaceId)
        .executeTakeFirstOrThrow()
      const token = INVITATION_PREFIX + newSecret(32)
      const now = clock.now()
      const invitation: Invitation = {
        id: newId('inv'),
        workspaceId,
        email,
        role,
        createdAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + INVITATION_DAYS * 86_400_000).toISOString(),
      }
      return db.transaction().execute(async (trx) => {
        // A new invitation replaces a pending one for the same address.
        await trx
          .deleteFrom('invitations')
          .where('workspace_id', '=', workspaceId)
          .where('email', '=', email)
          .where('accepted_at', 'is', null)
          .execute()
        await trx
          .insertInto('invitations')
          .values({
            id: invitation.id,
            workspace_id: workspaceId,
            email,
            role,
            token_hash: sha256Hex(token),
            invited_by: actorOf(principal).id,
            created_at: invitation.createdAt,
            expires_at: invitation.expiresAt,
            accepted_at: null,
          })
          .execute()
        await audit.record(trx, {
          actor: actorOf(principal),
          action: 'member.invite',
          target: { type: 'invitation', id: invitation.id },
          workspaceId,
          changes: diffChanges(null, { email, role }),
          context: ctx,
        })
        // Sent inside the transaction: if the mail cannot go out, no invitation is left behind.
        try {
          await deps.mailer.send({
            to: email,
            subject: `You are invited to the ${ws.name} workspace on Palisade`,
            text: [
              `${actorOf(principal).email ?? 'A Palisade administrator'} invited you to the workspace "${ws.name}" as ${role}.`,
              '',
              'Accept the invitation (valid for 7 days, usable once):',
              `${deps.publicUrl}/invitations/${token}`,
              '',
              'If you did not expect this, ignore this message.',
            ].join('\n'),
          })
        } catch (error) {
          throw new UnavailableError(IAM_ERRORS.mailFailed, 'the invitation e-mail could not be sent', {
            cause: error,
          })
        }
        return invitation
      })
    },

    /** Accepts an invitation once: creates the user when new (password required) and the membership. */
    async accept(
      ctx: RequestContext,
      token: string,
      password: string | undefined,
    ): Promise<{ workspaceId: string; userId: string; email: string; role: Role }> {
      const invalid = (): never => {
        throw new NotFoundError(
          IAM_ERRORS.invitationInvalid,
          'this invitation is unknown, expired or already used',
          { publicCode: 'invitation_invalid' },
        )
      }
      if (!token.startsWith(INVITATION_PREFIX) || token.length > 200) return invalid()
      const now = clock.now()
      return db.transaction().execute(async (trx) => {
        const inv = await trx
          .selectFrom('invitations')
          .selectAll()
          .where('token_hash', '=', sha256Hex(token))
          .executeTakeFirst()
        if (!inv || inv.accepted_at !== null || inv.expires_at <= now.toISOString()) return invalid()
        const burnt = await trx
          .updateTable('invitations')
          .set({ accepted_at: now.toISOString() })
          .where('id', '=', inv.id)
          .where('accepted_at', 'is', null)
          .executeTakeFirst()
        if (Number(burnt.numUpdatedRows) !== 1) return invalid()
        let user = await trx
          .selectFrom('users')
          .select(['id', 'email'])
          .where('email', '=', inv.email)
          .executeTakeFirst()
        if (!user) {
          if (password === undefined) {
            throw new InvalidError(
              IAM_ERRORS.invitationPassword,
              'choose a password to create your account',
              { details: [{ field: 'password', message: 'required for a new account' }] },
            )
          }
          user = await insertUser(trx, now, inv.email, password)
        }
        const role = assertRole(inv.role)
        const already = await trx
          .selectFrom('memberships')
          .select('role')
          .where('workspace_id', '=', inv.workspace_id)
          .where('user_id', '=', user.id)
          .executeTakeFirst()
        if (already)
          throw new ConflictError(IAM_ERRORS.memberExists, 'you are already a member of this workspace', {
            publicCode: 'conflict',
          })
        await trx
          .insertInto('memberships')
          .values({ workspace_id: inv.workspace_id, user_id: user.id, role, created_at: now.toISOString() })
          .execute()
        await audit.record(trx, {
          actor: { type: 'user', id: user.id, email: user.email },
          action: 'member.create',
          target: { type: 'user', id: user.id },
          workspaceId: inv.workspace_id,
          changes: diffChanges(null, { email: user.email, role, invitation: inv.id }),
          context: ctx,
        })
        return { workspaceId: inv.workspace_id, userId: user.id, email: user.email, role }
      })
    },

    async update(
      principal: Principal,
      ctx: RequestContext,
      wsRef: string,
      userId: string,
      input: { role: string },
    ): Promise<Member> {
      const workspaceId = await findWorkspaceId(db, wsRef)
      const grant = await authorize(db, principal, 'member.manage', { type: 'workspace', workspaceId })
      const role = assertRole(input.role)
      return db.transaction().execute(async (trx) => {
        const before = await target(trx, workspaceId, userId)
        const isOwnerChange = before.role === 'owner' || role === 'owner'
        if (isOwnerChange && grant.role !== 'owner' && grant.role !== 'platform') ownerOnly()
        if (before.role === 'owner' && role !== 'owner' && (await ownerCount(trx, workspaceId)) <= 1) {
          throw new ConflictError(
            IAM_ERRORS.lastOwner,
            'the last owner cannot be demoted; make someone else owner first',
            { publicCode: 'last_owner' },
          )
        }
        await trx
          .updateTable('memberships')
          .set({ role })
          .where('workspace_id', '=', workspaceId)
          .where('user_id', '=', userId)
          .execute()
        await audit.record(trx, {
          actor: actorOf(principal),
          action: 'member.update',
          target: { type: 'user', id: userId },
          workspaceId,
          changes: diffChanges({ role: before.role }, { role }),
          context: ctx,
        })
        const u = await trx
          .selectFrom('users')
          .innerJoin('memberships', 'memberships.user_id', 'users.id')
          .select(['users.totp_enabled', 'memberships.created_at'])
          .where('users.id', '=', userId)
          .where('memberships.workspace_id', '=', workspaceId)
          .executeTakeFirstOrThrow()
        return {
          userId,
          email: before.email,
          role,
          totpEnabled: u.totp_enabled === 1,
          createdAt: u.created_at,
        }
      })
    },

    async remove(principal: Principal, ctx: RequestContext, wsRef: string, userId: string): Promise<void> {
      const workspaceId = await findWorkspaceId(db, wsRef)
      const grant = await authorize(db, principal, 'member.manage', { type: 'workspace', workspaceId })
      await db.transaction().execute(async (trx) => {
        const before = await target(trx, workspaceId, userId)
        if (before.role === 'owner') {
          if (grant.role !== 'owner' && grant.role !== 'platform') ownerOnly()
          if ((await ownerCount(trx, workspaceId)) <= 1) {
            throw new ConflictError(IAM_ERRORS.lastOwner, 'the last owner cannot be removed', {
              publicCode: 'last_owner',
            })
          }
        }
        await trx
          .deleteFrom('memberships')
          .where('workspace_id', '=', workspaceId)
          .where('user_id', '=', userId)
          .execute()
        await audit.record(trx, {
          actor: actorOf(principal),
          action: 'member.delete',
          target: { type: 'user', id: userId },
          workspaceId,
          changes: diffChanges({ email: before.email, role: before.role }, null),
          context: ctx,
        })
      })
    },
  }
}

export type Members = ReturnType<typeof createMembers>
