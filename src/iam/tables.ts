/** The identity capability's own tables (migration 0002-identity), merged into the store's `Database`. */
declare module '../store/schema.js' {
  interface Database {
    api_tokens: ApiTokensTable
    recovery_codes: RecoveryCodesTable
    invitations: InvitationsTable
    ip_groups: IpGroupsTable
    ssh_keys: SshKeysTable
    credential_revocations: CredentialRevocationsTable
    password_resets: PasswordResetsTable
  }
  interface SessionsTable {
    /** 1 when the session was established with a second factor. */
    mfa: number
  }
}

export interface ApiTokensTable {
  id: string
  user_id: string
  name: string
  /** SHA-256 of the whole `pal_…` token. */
  token_hash: string
  /** JSON array of scopes. */
  scopes: string
  signed: number
  /** HMAC key for RFC 9421 signatures, sealed with the SecretBox (context `api_token:<id>`). */
  signing_key: string | null
  /** 1 when the creating session had a second factor (the token inherits it). */
  mfa: number
  created_at: string
  expires_at: string
  last_used_at: string | null
  last_used_ip: string | null
  revoked_at: string | null
  replaced_by: string | null
}

export interface RecoveryCodesTable {
  id: string
  user_id: string
  code_hash: string
  created_at: string
  used_at: string | null
}

export interface InvitationsTable {
  id: string
  workspace_id: string
  email: string
  role: string
  token_hash: string
  invited_by: string
  created_at: string
  expires_at: string
  accepted_at: string | null
}

export interface IpGroupsTable {
  id: string
  workspace_id: string
  name: string
  /** JSON array of normalised CIDRs. */
  cidrs: string
  created_at: string
  updated_at: string
}

export interface SshKeysTable {
  id: string
  user_id: string
  name: string
  key_type: string
  bits: number
  public_key: string
  fingerprint: string
  created_at: string
}

/** A session or API token that no longer acts in one workspace (migration 0010-credential-revocations). */
export interface CredentialRevocationsTable {
  workspace_id: string
  /** The session's or the API token's id. */
  credential_id: string
  revoked_at: string
}

/** A password reset request (migration 0017-password-resets). */
export interface PasswordResetsTable {
  id: string
  user_id: string
  /** SHA-256 (hex) of the token's secret part. */
  token_hash: string
  requested_ip: string | null
  created_at: string
  expires_at: string
  used_at: string | null
}
