import { existsSync, statSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import path from 'node:path'
import { parseCidr } from '../shared/cidr.js'
import { InvalidError } from '../shared/errors.js'
import { DEFAULTS } from './defaults.js'
import { SETTINGS, type Config, type ListenAddress } from './schema.js'

export type RawSettings = Partial<Record<keyof Config, string | undefined>>

/** Reads settings from the environment (the only place that touches process.env). */
export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): RawSettings {
  const raw: RawSettings = {}
  for (const s of SETTINGS) {
    const value = env[s.env]
    if (value !== undefined && value !== '') raw[s.key] = value
  }
  return raw
}

/** Validates settings once (flags override the environment), applies DEFAULTS and freezes the result. */
export function loadConfig(fromEnv: RawSettings, fromFlags: RawSettings = {}): Config {
  const raw: RawSettings = { ...fromEnv }
  for (const [k, v] of Object.entries(fromFlags)) if (v !== undefined) raw[k as keyof Config] = v
  const dataDir = path.resolve(raw.dataDir ?? DEFAULTS.dataDir)
  const apiListen = parseListen('apiListen', raw.apiListen ?? DEFAULTS.apiListen)
  const driver = raw.driver ?? DEFAULTS.driver
  if (driver !== 'local' && driver !== 'kubernetes') invalid('driver', 'must be local or kubernetes')
  // Refused at start rather than at the first deployment: the cluster's credentials must be known.
  if (driver === 'kubernetes' && !raw.kubeconfig && !raw.kubernetesServiceHost)
    invalid('driver', 'kubernetes needs KUBECONFIG or in-cluster credentials (KUBERNETES_SERVICE_HOST)')
  if (raw.kubernetesServicePort !== undefined && !/^[0-9]{1,5}$/.test(raw.kubernetesServicePort))
    invalid('kubernetesServicePort', 'must be a port number')
  if (
    raw.k8sRegistry !== undefined &&
    !/^[a-z0-9][a-z0-9.-]*(:[0-9]{1,5})?(\/[a-z0-9._-]+)*$/.test(raw.k8sRegistry)
  )
    invalid('k8sRegistry', 'must be a registry host[:port][/path]')
  const databaseUrl = raw.databaseUrl ?? `sqlite:${path.join(dataDir, 'palisade.db')}`
  if (!/^(sqlite:|postgres(ql)?:\/\/)/.test(databaseUrl))
    invalid('databaseUrl', 'must be postgres://… or sqlite:<path>')
  const baseDomain = (raw.baseDomain ?? DEFAULTS.baseDomain).toLowerCase()
  if (!/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/.test(baseDomain)) invalid('baseDomain', 'must be a host name')
  const publicUrl = (raw.publicUrl ?? `http://${hostForUrl(apiListen)}:${apiListen.port}`).replace(/\/+$/, '')
  if (!/^https?:\/\//.test(publicUrl)) invalid('publicUrl', 'must be an http(s) URL')
  const config: Config = {
    dataDir,
    databaseUrl,
    redisUrl: raw.redisUrl,
    extraCaCerts: parseCaFile(raw.extraCaCerts),
    apiListen,
    edgeHttpListen: parseListen('edgeHttpListen', raw.edgeHttpListen ?? DEFAULTS.edgeHttpListen),
    edgeHttpsListen: parseListen('edgeHttpsListen', raw.edgeHttpsListen ?? DEFAULTS.edgeHttpsListen),
    driver,
    baseDomain,
    publicUrl,
    smtpUrl: raw.smtpUrl,
    masterKey: raw.masterKey,
    crsDir: path.resolve(raw.crsDir ?? DEFAULTS.crsDir),
    auditRetentionDays: parseInteger(
      'auditRetentionDays',
      raw.auditRetentionDays,
      DEFAULTS.auditRetentionDays,
      1,
      36500,
    ),
    sessionIdleMinutes: parseInteger(
      'sessionIdleMinutes',
      raw.sessionIdleMinutes,
      DEFAULTS.sessionIdleMinutes,
      1,
      1440,
    ),
    sessionAbsoluteHours: parseInteger(
      'sessionAbsoluteHours',
      raw.sessionAbsoluteHours,
      DEFAULTS.sessionAbsoluteHours,
      1,
      720,
    ),
    logLevel: raw.logLevel ?? DEFAULTS.logLevel,
    edgeBodyLimit: parseInteger(
      'edgeBodyLimit',
      raw.edgeBodyLimit,
      DEFAULTS.edgeBodyLimit,
      1024,
      1024 * 1024 * 1024,
    ),
    edgeHeaderTimeout: parseInteger(
      'edgeHeaderTimeout',
      raw.edgeHeaderTimeout,
      DEFAULTS.edgeHeaderTimeout,
      1,
      120,
    ),
    edgeIdleTimeout: parseInteger('edgeIdleTimeout', raw.edgeIdleTimeout, DEFAULTS.edgeIdleTimeout, 1, 3600),
    edgeMaxConnectionsPerClient: parseInteger(
      'edgeMaxConnectionsPerClient',
      raw.edgeMaxConnectionsPerClient,
      DEFAULTS.edgeMaxConnectionsPerClient,
      0,
      1_000_000,
    ),
    // One worker per core, like nginx's `worker_processes auto`; 64 bounds what a typo can start.
    edgeWorkers: parseInteger('edgeWorkers', raw.edgeWorkers, Math.min(64, availableParallelism()), 1, 64),
    backupImportLimit: parseInteger(
      'backupImportLimit',
      raw.backupImportLimit,
      DEFAULTS.backupImportLimit,
      1024,
      1024 ** 4,
    ),
    gitLocalRoots: parseRoots(raw.gitLocalRoots),
    runtimePinning: parseSwitch('runtimePinning', raw.runtimePinning ?? DEFAULTS.runtimePinning),
    trustedProxies: parseCidrs('trustedProxies', raw.trustedProxies),
    decideRatePerMinute: parseInteger(
      'decideRatePerMinute',
      raw.decideRatePerMinute,
      DEFAULTS.decideRatePerMinute,
      1,
      1_000_000,
    ),
    kubeconfig: raw.kubeconfig === undefined ? undefined : path.resolve(raw.kubeconfig),
    k8sRegistry: raw.k8sRegistry,
    kubernetesServiceHost: raw.kubernetesServiceHost,
    kubernetesServicePort: raw.kubernetesServicePort,
    metricsToken: parseMetricsToken(raw.metricsToken),
    webhooksAllowPrivate: parseSwitch('webhooksAllowPrivate', raw.webhooksAllowPrivate ?? 'off'),
    ...parseAcme(raw),
  }
  return Object.freeze(config)
}

/**
 * ACME is on when a directory URL is given. Only https (a certificate order carries the account's signed
 * requests; plain http would let anyone on the path swap the directory); the e-mail and CA file only with it.
 */
function parseAcme(raw: RawSettings): Pick<Config, 'acmeDirectoryUrl' | 'acmeEmail' | 'acmeCaFile'> {
  const url = raw.acmeDirectoryUrl
  if (url === undefined) {
    if (raw.acmeEmail !== undefined) invalid('acmeEmail', 'needs PALISADE_ACME_DIRECTORY_URL')
    if (raw.acmeCaFile !== undefined) invalid('acmeCaFile', 'needs PALISADE_ACME_DIRECTORY_URL')
    return { acmeDirectoryUrl: undefined, acmeEmail: undefined, acmeCaFile: undefined }
  }
  let parsed: URL | undefined
  try {
    parsed = new URL(url)
  } catch {
    parsed = undefined
  }
  if (!parsed || parsed.protocol !== 'https:' || parsed.username !== '' || parsed.password !== '')
    invalid('acmeDirectoryUrl', 'must be an https:// URL without credentials')
  const email = raw.acmeEmail
  if (email !== undefined && !/^[^\s@<>]{1,64}@[A-Za-z0-9.-]{1,253}$/.test(email))
    invalid('acmeEmail', 'must be an e-mail address')
  let caFile: string | undefined
  if (raw.acmeCaFile !== undefined) {
    caFile = path.resolve(raw.acmeCaFile)
    if (!existsSync(caFile) || !statSync(caFile).isFile())
      invalid('acmeCaFile', `must name an existing PEM file (${caFile} is not one)`)
  }
  return { acmeDirectoryUrl: url, acmeEmail: email, acmeCaFile: caFile }
}

/** A guessable scrape token would expose every environment's traffic figures: 24 to 200 visible ASCII characters. */
function parseMetricsToken(value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  if (!/^[\x21-\x7e]{24,200}$/.test(value))
    invalid('metricsToken', 'must be 24 to 200 visible ASCII characters (e.g. openssl rand -hex 32)')
  return value
}

function hostForUrl(listen: ListenAddress): string {
  if (listen.host === '0.0.0.0' || listen.host === '::') return '127.0.0.1'
  return listen.host.includes(':') ? `[${listen.host}]` : listen.host
}

function parseListen(field: keyof Config, value: string): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:]+)\]|([^:]+)):(\d{1,5})$/.exec(value)
  const port = m ? Number(m[3]) : NaN
  if (!m || port > 65535) invalid(field, `must be host:port, got ${JSON.stringify(value)}`)
  return Object.freeze({ host: (m[1] ?? m[2]) as string, port })
}

/** Local git roots: `none`, or absolute (or relative to the start directory) paths joined by `:`. The root `/` is refused. */
function parseRoots(value: string | undefined): readonly string[] {
  if (value === 'none') return Object.freeze([])
  const given = value !== undefined
  const roots = (value ?? DEFAULTS.gitLocalRoots)
    .split(':')
    .filter((r) => r !== '')
    .map((r) => path.resolve(r))
  if (roots.includes('/')) {
    if (given) invalid('gitLocalRoots', 'must not allow the whole file system (/)')
    return Object.freeze([])
  }
  return Object.freeze(roots)
}

/** Comma-separated IPv4/IPv6 addresses or CIDRs (at most 100); empty or absent: none. */
function parseCidrs(field: keyof Config, value: string | undefined): readonly string[] {
  const entries = (value ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '')
  if (entries.length > 100) invalid(field, 'takes at most 100 entries')
  for (const entry of entries) {
    if (!parseCidr(entry))
      invalid(field, `${JSON.stringify(entry)} is not an IP address or CIDR (e.g. 10.0.0.0/8, 2001:db8::/32)`)
  }
  return Object.freeze(entries)
}

function parseSwitch(field: keyof Config, value: string): boolean {
  if (value === 'on' || value === 'true' || value === '1') return true
  if (value === 'off' || value === 'false' || value === '0') return false
  invalid(field, 'must be on or off')
}

function parseInteger(
  field: keyof Config,
  value: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < min || n > max) invalid(field, `must be an integer from ${min} to ${max}`)
  return n
}

function invalid(field: string, message: string): never {
  const setting = SETTINGS.find((s) => s.key === field)
  const name = setting ? `${setting.env} (--${setting.flag})` : field
  throw new InvalidError('PAL_CONFIG_INVALID', `${name} ${message}`, { details: [{ field, message }] })
}

/** What the CLI needs from its environment (read here so that config/ stays the only reader of process.env). */
export interface CliEnvironment {
  readonly apiUrl: string | undefined
  readonly token: string | undefined
  readonly workspace: string | undefined
  readonly configHome: string | undefined
  readonly dataDir: string | undefined
  /** A signed token's signing key (hex) and its key id (the token id): the CLI then signs every request. */
  readonly signingKey: string | undefined
  readonly signingKeyId: string | undefined
}

export function cliEnvironment(env: NodeJS.ProcessEnv = process.env): CliEnvironment {
  const get = (k: string): string | undefined => (env[k] === undefined || env[k] === '' ? undefined : env[k])
  return Object.freeze({
    apiUrl: get('PALISADE_API_URL'),
    token: get('PALISADE_TOKEN'),
    workspace: get('PALISADE_WORKSPACE'),
    configHome: get('XDG_CONFIG_HOME'),
    dataDir: get('PALISADE_DATA_DIR'),
    signingKey: get('PALISADE_SIGNING_KEY'),
    signingKeyId: get('PALISADE_SIGNING_KEY_ID'),
  })
}

/** An absolute path to an existing file (resolved here: builds see it at that path, read-only). */
function parseCaFile(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined
  const file = path.resolve(value)
  if (!existsSync(file) || !statSync(file).isFile())
    invalid('extraCaCerts', `must name an existing PEM file (${file} is not one)`)
  return file
}
