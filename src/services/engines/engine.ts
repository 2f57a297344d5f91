import type { RunAs } from '../exec.js'

export const SERVICE_TYPES = ['mariadb', 'redis', 'postgresql'] as const
export type ServiceType = (typeof SERVICE_TYPES)[number]

/** Generated at provisioning, sealed at rest, never logged. */
export interface Credentials {
  /** Superuser the control plane uses (ping, dumps, restores). */
  readonly adminUser: string
  readonly adminPassword: string
  /** The environment's own user: limited to its database (SQL) or to non-dangerous commands (Redis). */
  readonly user: string
  readonly password: string
  /** Database name (SQL engines; empty for Redis). */
  readonly database: string
}

/** One service instance on disk: `<data>/envs/<envId>/services/<serviceId>/`, mode 0700, owned by `runAs`. */
export interface Instance {
  readonly id: string
  readonly dir: string
  readonly runAs: RunAs | null
}

export interface ServerCommand {
  readonly argv: readonly string[]
  readonly stopSignal: NodeJS.Signals
}

/** How one kind of server is initialised, started, checked and reached. */
export interface Engine {
  readonly type: ServiceType
  /** `major.minor` of the installed binaries (one version per type: the Debian package's). */
  installedVersion(): Promise<string>
  /** Creates the data directory and the users; runs once, before the first start. */
  initialize(inst: Instance, creds: Credentials): Promise<void>
  server(inst: Instance): ServerCommand
  /** True once the server answers an authenticated request from the admin user. */
  ping(inst: Instance, creds: Credentials): Promise<boolean>
  /** After the first start (idempotent): what initialize could not do offline. */
  bootstrap(inst: Instance, creds: Credentials): Promise<void>
  /** Variables for the environment's processes: `url` and the family's own (MYSQL_*, PG*, REDIS_*). */
  connection(
    inst: Instance,
    creds: Credentials,
  ): { readonly url: string; readonly family: Record<string, string> }
  /** Where the server listens (a Unix socket path). */
  socketPath(inst: Instance): string
  /** File name of a dump inside a backup (`mariadb.sql`, `postgresql.sql`, `redis.rdb`). */
  readonly dumpExtension: string
  /** Writes a consistent dump of the app's data (not users, not settings: no platform secrets) to `file`. */
  dump(inst: Instance, creds: Credentials, file: string): Promise<void>
  /** Replaces the app's data with a dump written by `dump`. `control` stops and starts the supervised server. */
  restore(inst: Instance, creds: Credentials, file: string, control: ServerControl): Promise<void>
}

export interface ServerControl {
  stop(): Promise<void>
  start(): Promise<void>
}
