/** Palisade's configuration after validation. Frozen; passed to capabilities in slices. */
export interface Config {
  readonly dataDir: string
  /** `sqlite:<path>` or `postgres://…` */
  readonly databaseUrl: string
  readonly redisUrl: string | undefined
  /** A PEM file of extra CAs (a TLS-inspecting proxy's) that builds and apps trust, as Node's NODE_EXTRA_CA_CERTS. */
  readonly extraCaCerts: string | undefined
  readonly apiListen: ListenAddress
  readonly edgeHttpListen: ListenAddress
  readonly edgeHttpsListen: ListenAddress
  readonly driver: 'local' | 'kubernetes'
  readonly baseDomain: string
  readonly publicUrl: string
  readonly smtpUrl: string | undefined
  /** 32-byte key given as hex or base64, or undefined to use `<data>/master.key`. */
  readonly masterKey: string | undefined
  readonly crsDir: string
  readonly auditRetentionDays: number
  readonly sessionIdleMinutes: number
  readonly sessionAbsoluteHours: number
  readonly logLevel: string
  /** Edge request body limit in bytes. */
  readonly edgeBodyLimit: number
  /** Seconds a client has to send a whole request head to the edge (slowloris). */
  readonly edgeHeaderTimeout: number
  /** Seconds an idle keep-alive connection to the edge stays open. */
  readonly edgeIdleTimeout: number
  /** Open connections per client address on each edge listener; 0 = no cap. */
  readonly edgeMaxConnectionsPerClient: number
  /** Edge worker processes `palisade serve` runs (the data plane); default the number of cores. */
  readonly edgeWorkers: number
  /** Largest backup archive an import accepts, bytes (streamed to disk, never buffered). */
  readonly backupImportLimit: number
  /** Absolute directories local git repositories may be deployed from; empty = none. */
  readonly gitLocalRoots: readonly string[]
  /** `node@…` builds and processes run on an exact Node.js version installed in `<data>/runtimes/node/` (off: the host's node). */
  readonly runtimePinning: boolean
  /** `POST /v1/decide` calls per signing key per minute. */
  readonly decideRatePerMinute: number
  /**
   * Addresses or CIDRs of proxies in front of the edge (load balancer, CDN): only from them are
   * `X-Forwarded-For`/`Forwarded` believed for the client address. Empty: the peer is the client.
   */
  readonly trustedProxies: readonly string[]
  /** Kubeconfig file of the cluster (driver `kubernetes`); without it, in-cluster credentials. */
  readonly kubeconfig: string | undefined
  /** Registry in-cluster builds push to (driver `kubernetes`). */
  readonly k8sRegistry: string | undefined
  /** Set by Kubernetes inside a pod: the API server's address for in-cluster credentials. */
  readonly kubernetesServiceHost: string | undefined
  readonly kubernetesServicePort: string | undefined
  /** Bearer token that may read `GET /metrics` (API tokens with the `metrics` scope may too); unset: tokens only. */
  readonly metricsToken: string | undefined
  /** Alert webhooks may reach loopback/private addresses (default off: a workspace admin could aim them inside, SSRF). */
  readonly webhooksAllowPrivate: boolean
  /**
   * ACME directory (HTTP-01) that issues custom domains' certificates, e.g.
   * https://acme-v02.api.letsencrypt.org/directory. Unset (the default): ACME is off, custom domains are served
   * with the local CA's certificates.
   */
  readonly acmeDirectoryUrl: string | undefined
  /** Contact e-mail of the ACME account (expiry notices from the CA). */
  readonly acmeEmail: string | undefined
  /** PEM of the CA that signs the ACME directory's HTTPS certificate (a test CA such as pebble's); unset: the system's. */
  readonly acmeCaFile: string | undefined
}

export interface ListenAddress {
  readonly host: string
  readonly port: number
}

/** Every setting: its environment variable, its `palisade serve --flag`, and what it means. */
export const SETTINGS = [
  { key: 'dataDir', env: 'PALISADE_DATA_DIR', flag: 'data-dir', help: 'data directory' },
  {
    key: 'databaseUrl',
    env: 'PALISADE_DATABASE_URL',
    flag: 'database-url',
    help: 'postgres://… (default: SQLite in the data dir)',
  },
  {
    key: 'redisUrl',
    env: 'PALISADE_REDIS_URL',
    flag: 'redis-url',
    help: 'redis://… for shared throttling and nonces',
  },
  { key: 'apiListen', env: 'PALISADE_API_LISTEN', flag: 'api-listen', help: 'API address host:port' },
  {
    key: 'edgeHttpListen',
    env: 'PALISADE_EDGE_HTTP_LISTEN',
    flag: 'edge-http-listen',
    help: 'edge HTTP address',
  },
  {
    key: 'edgeHttpsListen',
    env: 'PALISADE_EDGE_HTTPS_LISTEN',
    flag: 'edge-https-listen',
    help: 'edge HTTPS address',
  },
  { key: 'driver', env: 'PALISADE_DRIVER', flag: 'driver', help: 'local | kubernetes' },
  {
    key: 'baseDomain',
    env: 'PALISADE_BASE_DOMAIN',
    flag: 'base-domain',
    help: 'base domain of default host names',
  },
  { key: 'publicUrl', env: 'PALISADE_PUBLIC_URL', flag: 'public-url', help: 'URL used in links and e-mails' },
  {
    key: 'smtpUrl',
    env: 'PALISADE_SMTP_URL',
    flag: 'smtp-url',
    help: 'smtp://… (default: .eml files in <data>/outbox)',
  },
  {
    key: 'masterKey',
    env: 'PALISADE_MASTER_KEY',
    flag: 'master-key',
    help: '32-byte key, hex or base64 (default: <data>/master.key)',
  },
  { key: 'crsDir', env: 'PALISADE_CRS_DIR', flag: 'crs-dir', help: 'OWASP CRS directory' },
  {
    key: 'auditRetentionDays',
    env: 'PALISADE_AUDIT_RETENTION_DAYS',
    flag: 'audit-retention-days',
    help: 'days audit events are kept',
  },
  {
    key: 'sessionIdleMinutes',
    env: 'PALISADE_SESSION_IDLE_MINUTES',
    flag: 'session-idle-minutes',
    help: 'session idle timeout',
  },
  {
    key: 'sessionAbsoluteHours',
    env: 'PALISADE_SESSION_ABSOLUTE_HOURS',
    flag: 'session-absolute-hours',
    help: 'session lifetime',
  },
  { key: 'logLevel', env: 'PALISADE_LOG_LEVEL', flag: 'log-level', help: 'pino level' },
  {
    key: 'edgeBodyLimit',
    env: 'PALISADE_EDGE_BODY_LIMIT',
    flag: 'edge-body-limit',
    help: 'edge request body limit (bytes)',
  },
  {
    key: 'edgeHeaderTimeout',
    env: 'PALISADE_EDGE_HEADER_TIMEOUT',
    flag: 'edge-header-timeout',
    help: 'seconds a client has to send a request head to the edge (default 20)',
  },
  {
    key: 'edgeIdleTimeout',
    env: 'PALISADE_EDGE_IDLE_TIMEOUT',
    flag: 'edge-idle-timeout',
    help: 'seconds an idle keep-alive connection to the edge stays open (default 5)',
  },
  {
    key: 'edgeMaxConnectionsPerClient',
    env: 'PALISADE_EDGE_MAX_CONNECTIONS_PER_CLIENT',
    flag: 'edge-max-connections-per-client',
    help: 'open connections per client address on each edge listener, 0 = no cap (default 128)',
  },
  {
    key: 'edgeWorkers',
    env: 'PALISADE_EDGE_WORKERS',
    flag: 'edge-workers',
    help: 'edge worker processes serving client traffic, 1 to 64 (default: the number of CPU cores)',
  },
  {
    key: 'backupImportLimit',
    env: 'PALISADE_BACKUP_IMPORT_LIMIT',
    flag: 'backup-import-limit',
    help: 'largest backup archive an import accepts (bytes, default 2 GiB)',
  },
  {
    key: 'runtimePinning',
    env: 'PALISADE_RUNTIME_PINNING',
    flag: 'runtime-pinning',
    help: 'on | off: run node@… apps on the exact Node.js version their release pins (default on; off uses the host node)',
  },
  {
    key: 'gitLocalRoots',
    env: 'PALISADE_GIT_LOCAL_ROOTS',
    flag: 'git-local-roots',
    help: 'colon-separated directories local git repos may be deployed from, or "none" (default: the directory serve starts in)',
  },
  {
    key: 'trustedProxies',
    env: 'PALISADE_TRUSTED_PROXIES',
    flag: 'trusted-proxies',
    help: 'comma-separated addresses or CIDRs of proxies in front of the edge whose X-Forwarded-For/Forwarded give the client address (default: none)',
  },
  {
    key: 'extraCaCerts',
    env: 'NODE_EXTRA_CA_CERTS',
    flag: 'extra-ca-certs',
    help: "PEM file of extra CAs (a TLS-inspecting proxy's) given to builds and apps as NODE_EXTRA_CA_CERTS",
  },
  {
    key: 'decideRatePerMinute',
    env: 'PALISADE_DECIDE_RATE_PER_MINUTE',
    flag: 'decide-rate-per-minute',
    help: 'POST /v1/decide calls per signing key per minute',
  },
  {
    key: 'kubeconfig',
    env: 'KUBECONFIG',
    flag: 'kubeconfig',
    help: 'kubeconfig of the cluster (driver kubernetes; default: in-cluster credentials)',
  },
  {
    key: 'k8sRegistry',
    env: 'PALISADE_K8S_REGISTRY',
    flag: 'k8s-registry',
    help: 'registry host[/path] in-cluster builds push to (driver kubernetes)',
  },
  {
    key: 'kubernetesServiceHost',
    env: 'KUBERNETES_SERVICE_HOST',
    flag: 'kubernetes-service-host',
    help: 'API server host for in-cluster credentials (set by Kubernetes)',
  },
  {
    key: 'kubernetesServicePort',
    env: 'KUBERNETES_SERVICE_PORT',
    flag: 'kubernetes-service-port',
    help: 'API server port for in-cluster credentials (set by Kubernetes)',
  },
  {
    key: 'metricsToken',
    env: 'PALISADE_METRICS_TOKEN',
    flag: 'metrics-token',
    help: 'bearer token for GET /metrics (at least 24 characters; API tokens with the metrics scope work too)',
  },
  {
    key: 'webhooksAllowPrivate',
    env: 'PALISADE_WEBHOOKS_ALLOW_PRIVATE',
    flag: 'webhooks-allow-private',
    help: 'on | off: alert webhooks may reach loopback and private addresses (default off)',
  },
  {
    key: 'acmeDirectoryUrl',
    env: 'PALISADE_ACME_DIRECTORY_URL',
    flag: 'acme-directory-url',
    help: "https://… ACME directory issuing custom domains' certificates (default: unset, ACME off)",
  },
  {
    key: 'acmeEmail',
    env: 'PALISADE_ACME_EMAIL',
    flag: 'acme-email',
    help: 'contact e-mail of the ACME account',
  },
  {
    key: 'acmeCaFile',
    env: 'PALISADE_ACME_CA_FILE',
    flag: 'acme-ca-file',
    help: "PEM of the CA signing the ACME directory's HTTPS certificate (default: the system's CAs)",
  },
] as const satisfies ReadonlyArray<{ key: keyof Config; env: string; flag: string; help: string }>
