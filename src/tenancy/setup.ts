import { actorOf, insertUser, type Principal } from '../iam/index.js'
import { diffChanges } from '../audit/index.js'
import type { RequestContext } from '../shared/context.js'
import { ConflictError, UnauthenticatedError } from '../shared/errors.js'
import { safeEqual, sha256Hex } from '../shared/hash.js'
import { newSecret } from '../shared/ids.js'
import type { TenancyDeps } from './deps.js'
import { TENANCY_ERRORS } from './errors.js'
import { insertWorkspace, type Workspace } from './workspaces.js'
import type { User } from '../iam/index.js'

export const SETUP_TOKEN_PREFIX = 'pst_'

/**
 * The first-start flow: while no owner exists, a one-time token (stored hashed) lets one caller
 * create the first owner and workspace. The token is burnt in the same transaction.
 */
export function createSetup(deps: TenancyDeps) {
  const { db, clock, audit } = deps
  return {
    async isComplete(): Promise<boolean> {
      const row = await db
        .selectFrom('setup_state')
        .select('completed_at')
        .where('id', '=', 1)
        .executeTakeFirst()
      return row?.completed_at !== null && row?.completed_at !== undefined
    },

    /** Issues a fresh token (the previous one stops working). Returns null once setup is done. */
    async issueToken(): Promise<string | null> {
      if (await this.isComplete()) return null
      const token = SETUP_TOKEN_PREFIX + newSecret(24)
      const now = clock.now().toISOString()
      await db
        .insertInto('setup_state')
        .values({ id: 1, token_hash: sha256Hex(token), created_at: now, completed_at: null })
        .onConflict((oc) => oc.column('id').doUpdateSet({ token_hash: sha256Hex(token), created_at: now }))
        .execute()
      return token
    },

    async complete(
      ctx: RequestContext,
      input: { token: string; email: string; password: string; workspace: string },
    ): Promise<{ user: User; workspace: Workspace }> {
      return db.transaction().execute(async (trx) => {
        const state = await trx.selectFrom('setup_state').selectAll().where('id', '=', 1).executeTakeFirst()
        if (!state || state.completed_at !== null || state.token_hash === null) {
          throw new ConflictError(TENANCY_ERRORS.setupDone, 'setup is already complete', {
            publicCode: 'setup_complete',
          })
        }
        if (!safeEqual(sha256Hex(input.token), state.token_hash)) {
          throw new UnauthenticatedError(TENANCY_ERRORS.setupToken, 'setup token is not valid', {
            publicCode: 'invalid_setup_token',
          })
        }
        const at = clock.now()
        const user = await insertUser(trx, at, input.email, input.password)
        const workspace = await insertWorkspace(trx, at, user.id, input.workspace)
        await trx
          .updateTable('setup_state')
          .set({ token_hash: null, completed_at: at.toISOString() })
          .where('id', '=', 1)
          .execute()
        const principal: Principal = {
          type: 'user',
          userId: user.id,
          email: user.email,
          sessionId: 'setup',
          mfa: false,
        }
        await audit.record(trx, {
          actor: actorOf(principal),
          action: 'workspace.setup',
          target: { type: 'workspace', id: workspace.id },
          workspaceId: workspace.id,
          changes: diffChanges(null, { owner: user.email, name: workspace.name }),
          context: ctx,
        })
        return { user, workspace }
      })
    },
  }
}

export type Setup = ReturnType<typeof createSetup>
