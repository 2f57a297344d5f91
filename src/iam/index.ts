/**
 * Identity and access: users, sessions, principals and the one `authorize()` decision.
 * @example const grant = await authorize(db, principal, 'project.create', { type: 'workspace', workspaceId })
 */
export {
  authorize,
  authorizeAccount,
  isAllowed,
  memberWorkspaceIds,
  type ResourceRef,
  type Grant,
  type AccountAction,
} from './authorize.js'
export { createIdentity, type Identity, type IdentityDeps } from './identity.js'
export {
  actorOf,
  userIdOf,
  PLATFORM,
  SCOPES,
  type Principal,
  type Scope,
  type ActorRecord,
} from './principal.js'
export { RULES, ROLES, isRole, roleAtLeast, scopeCovers, type Action, type Role } from './roles.js'
export { insertUser, normaliseEmail, assertPasswordAcceptable, findUserById, type User } from './users.js'
export { hashPassword, verifyPassword, ARGON2_OPTIONS } from './password-hash.js'
export { passwordProblem, PASSWORD_MIN_LENGTH, PASSWORD_MAX_LENGTH } from './password-policy.js'
export { IAM_ERRORS } from './errors.js'
export type { SessionPolicy } from './sessions.js'
export { createIdentityStores, type IdentityStores } from './shared-stores.js'
export { createLoginThrottle, LOGIN_LIMITS, type LoginThrottle } from './login-throttle.js'
export { createMemoryNonceStore, createRedisNonceStore, type NonceStore } from './nonce-store.js'
export {
  signRequest,
  contentDigest,
  SIGNATURE_WINDOW_SECONDS,
  type SignedRequest,
  type SignatureVerifier,
} from './request-signature.js'
export {
  API_TOKEN_PREFIX,
  TOKEN_LIMITS,
  type ApiToken,
  type NewApiToken,
  type ApiTokens,
} from './api-tokens.js'
export { totpCode, RECOVERY_CODE_COUNT } from './totp.js'
export type { SessionInfo } from './sessions.js'
export type * from './tables.js'
export { createMailer, type Mailer, type Mail } from './mailer.js'
export { INCIDENT_ACTIONS, type IncidentAction, type IncidentReport, type Incidents } from './incidents.js'
export {
  INVITATION_PREFIX,
  INVITATION_DAYS,
  findWorkspaceId,
  type Member,
  type Invitation,
  type Members,
} from './members.js'
export { normaliseCidrs, MAX_CIDRS, type IpGroup, type IpGroups } from './ip-groups.js'
export { parseSshPublicKey, MIN_RSA_BITS, type SshKey, type SshKeys, type ParsedSshKey } from './ssh-keys.js'
