/** The deploy capability's own tables (migration 0003-deploy), merged into the store's `Database`. */
declare module '../store/schema.js' {
  interface Database {
    deployments: DeploymentsTable
    releases: ReleasesTable
    deploy_states: DeployStatesTable
    jobs: JobsTable
    environment_access: EnvironmentAccessTable
    environment_domains: EnvironmentDomainsTable
    domain_claims: DomainClaimsTable
  }
}

export interface DeploymentsTable {
  id: string
  environment_id: string
  workspace_id: string
  project_id: string
  /** 1, 2, 3… per environment. */
  number: number
  /** `deploy` builds a new release; `rollback` starts an existing one. */
  kind: string
  status: string
  ref: string | null
  commit: string | null
  /** Release started by this deployment (set once built, or at once for a rollback). */
  release: number | null
  /** Exact runtime version the release runs on (`20.19.6`); null when not pinned (static, custom, pinning off). */
  runtime_version: string | null
  /** A runtime update rebuilds this release's code on a new runtime version. */
  source_release: number | null
  reason: string | null
  created_at: string
  started_at: string | null
  finished_at: string | null
}

export interface ReleasesTable {
  environment_id: string
  number: number
  deployment_id: string
  commit: string | null
  /** `process` or `static`. */
  kind: string
  /** JSON argv of the web process (process kind). */
  command: string | null
  /** Directory served by the edge, relative to the release (static kind). */
  static_root: string | null
  created_at: string
  /** 1 once the directory was pruned (kept for history). */
  removed: number
  /** Exact runtime version the release was built for and runs on; null when not pinned. */
  runtime_version: string | null
  /** SHA-256 over the frozen tree (null: built before releases were frozen); checked before a rollback. */
  digest: string | null
}

export interface DeployStatesTable {
  environment_id: string
  current_release: number | null
  current_deployment_id: string | null
  maintenance: number
  updated_at: string
}

export interface JobsTable {
  id: string
  environment_id: string
  workspace_id: string
  type: string
  command: string | null
  status: string
  exit_code: number | null
  reason: string | null
  created_at: string
  finished_at: string | null
}

export interface EnvironmentAccessTable {
  environment_id: string
  /** JSON array of CIDRs. */
  ip_allow: string
  /** JSON array of ip-group ids of the environment's workspace. */
  ip_groups: string
  basic_username: string | null
  /** argon2id hash; never returned. */
  basic_password_hash: string | null
  updated_at: string
}

/** A workspace's claim on a custom domain for one environment (migration 0010). Several may name one domain. */
export interface DomainClaimsTable {
  environment_id: string
  workspace_id: string
  name: string
  /** Random proof token: `_palisade-challenge.<name>` TXT `palisade-verification=<token>`, or the HTTP file. */
  token: string
  created_at: string
  /** Set while the domain is proven (and routed); null while pending or after a failed re-check. */
  verified_at: string | null
  /** How it was last proven: `dns`, `http` or `legacy` (routed before proof was required). */
  method: string | null
  checked_at: string | null
  /** Consecutive failed re-checks of a verified domain. */
  failures: number
}

/** A proven custom domain routed to an environment (exactly the hosts the edge serves). */
export interface EnvironmentDomainsTable {
  /** Lowercase host name, unique across the platform. */
  name: string
  environment_id: string
  workspace_id: string
  created_at: string
}
