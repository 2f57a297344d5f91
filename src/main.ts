import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { Resolver } from 'node:dns/promises'
import path from 'node:path'
import type { FastifyInstance } from 'fastify'
import { fileURLToPath } from 'node:url'
import { buildApp, loadConsoleFiles, type AppDeps } from './api/index.js'
import {
  createAuditLog,
  createCheckpointSigner,
  generateSigningKeyPem,
  type AuditLog,
} from './audit/index.js'
import type { Config } from './config/index.js'
import {
  createDeploy,
  createKubernetesControl,
  createKubernetesDriver,
  kubeClientFor,
  type KubernetesControl,
  createLocalDriver,
  createServerGuard,
  DOMAIN_DEFAULTS,
  processStartTime,
  hardenDataDir,
  resolveRepository,
  type Deploy,
  type DeployOptions,
  type DomainOptions,
} from './deploy/index.js'
import {
  createControlLink,
  createEdge,
  createEventBatcher,
  createWafCache,
  createWafInspector,
  edgePaths,
  moveLegacyEdgeFiles,
  type ControlLink,
  type Edge,
  type WafEvent,
} from './edge/index.js'
import { createIdentity, createIdentityStores, createMailer } from './iam/index.js'
import {
  createRuntimePins,
  createRuntimes,
  createRuntimeUpdates,
  type RuntimeUpdates,
} from './runtimes/index.js'
import {
  createBackupScheduler,
  createServices,
  createSync,
  ENGINES,
  type BackupScheduler,
  type Services,
  type SyncService,
} from './services/index.js'
import { loadMasterKey, loadOrCreateKeyFile } from './keys.js'
import { systemClock, type Clock } from './shared/clock.js'
import { writeFileDurably } from './shared/durable-file.js'
import { createLogger, type Logger } from './shared/log.js'
import { edgeOptionsOf } from './serve-edge-worker.js'
import { createMonitor, type Monitor } from './monitor/index.js'
import { createSecretBox } from './shared/secret-box.js'
import { armCrashPoints, armedCrashPoints, crashPoint, onCrashPoint } from './shared/crash-point.js'
import { crashPointsFromEnv, testHooksFromEnv } from './config/index.js'
import {
  AcmeIssuer,
  AcmeManager,
  localCaStatus,
  type AcmeOutcome,
  type ChallengeResponder,
} from './edge/acme.js'
import { diffChanges } from './audit/index.js'
import { actorOf, PLATFORM } from './iam/index.js'
import { PLATFORM_CONTEXT } from './shared/context.js'
import { migrateToLatest, openStore, type Store } from './store/index.js'
import { createTenancy, type Tenancy } from './tenancy/index.js'
import { VERSION } from './version.js'

export interface Platform {
  readonly config: Config
  readonly store: Store
  readonly audit: AuditLog
  readonly tenancy: Tenancy
  readonly deploy: Deploy
  /** The runtime update scheduler and postponements; `serve` starts the scheduler. */
  readonly runtimeUpdates: RuntimeUpdates
  readonly services: Services
  /** Environment sync with anonymization. */
  readonly sync: SyncService
  /** Runs due backup schedules; `serve` starts it, `close` stops it. */
  readonly backupScheduler: BackupScheduler
  /** The gateway in front of every environment; `serve` makes it listen. */
  readonly edge: Edge
  /** Under `palisade serve`: the link that programs the edge worker processes (absent in-process). */
  readonly edgeLink: ControlLink | undefined
  /** ACME orders for custom domains (PALISADE_ACME_DIRECTORY_URL set); `serve` starts it. */
  readonly acme: AcmeManager | undefined
  /** Compiles the WAF for the default settings now, so the first request does not pay for it. */
  warmWaf(): 'crs' | 'baseline'
  readonly app: FastifyInstance
  readonly logger: Logger
  /** Under PALISADE_DRIVER=kubernetes: keeps the cluster in line with the store (absent under local). */
  readonly kubernetes: KubernetesControl | undefined
  /** Metrics, environment logs, supervision and audit watches, alerts; `serve` starts its rounds. */
  readonly monitor: Monitor
  close(): Promise<void>
}

export interface PlatformOptions {
  readonly clock?: Clock
  readonly logger?: Logger
  /** Where the one-time setup token is announced (default: the log). */
  readonly announce?: (line: string) => void
  /** Deploy tuning for tests: isolation (default: when running as root) and timings. */
  readonly deploy?: {
    readonly isolate?: boolean
    /** Sizing limits through cgroups when isolated (default on; off only to measure what they cost). */
    readonly limits?: boolean
    readonly options?: Partial<DeployOptions>
  }
  /** How often the backup scheduler looks for due schedules (tests: short; default one minute). */
  readonly backupScheduler?: { readonly intervalMs?: number }
  /** Custom domain proofs for tests: a resolver, the HTTP check's port, loopback allowed. */
  readonly domains?: DomainOptions
  /** The built web console (default: `dist/console` of this package, when built; null: none). */
  readonly consoleDir?: string | null
  /**
   * The IPC channel to `palisade serve`'s supervisor: the edge runs in worker processes, programmed through
   * it; this process's edge never listens and only holds the route table the deployer publishes into.
   */
  readonly edgeWorkers?: {
    readonly send: (message: unknown) => void
    readonly subscribe: (listener: (message: unknown) => void) => () => void
  }
}

/** Where `npm install` (vite build) writes the console: `<package>/dist/console`, from src/ or dist/ alike. */
export const DEFAULT_CONSOLE_DIR = path.join(fileURLToPath(new URL('..', import.meta.url)), 'dist', 'console')

/**
 * Composition root: opens the store, runs migrations, wires the capabilities and builds the API.
 * Nothing listens yet; `serve` does that.
 */
export async function createPlatform(config: Config, options: PlatformOptions = {}): Promise<Platform> {
  const clock = options.clock ?? systemClock
  // Readable lines on a terminal (the README's `npm start &`), JSON lines otherwise (files, collectors).
  const logger =
    options.logger ?? createLogger({ level: config.logLevel, format: process.stderr.isTTY ? 'text' : 'json' })
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 })
  const store = openStore(config.databaseUrl)
  await migrateToLatest(store.db)
  const secrets = createSecretBox(loadMasterKey(config.dataDir, config.masterKey))
  const signer = createCheckpointSigner(
    loadOrCreateKeyFile(path.join(config.dataDir, 'audit-signing.pem'), generateSigningKeyPem),
  )
  const audit = createAuditLog({ db: store.db, dialect: store.dialect, clock, signer })
  const identityStores = createIdentityStores({ redisUrl: config.redisUrl, clock })
  const mailer = createMailer({ smtpUrl: config.smtpUrl, outboxDir: path.join(config.dataDir, 'outbox') })
  const identity = createIdentity({
    db: store.db,
    dialect: store.dialect,
    clock,
    audit,
    sessions: { idleMinutes: config.sessionIdleMinutes, absoluteHours: config.sessionAbsoluteHours },
    secrets,
    throttle: identityStores.throttle,
    resetThrottles: identityStores.resetThrottles,
    onResetMailError: (err) => logger.error({ err }, 'a password reset e-mail could not be sent'),
    nonces: identityStores.nonces,
    mailer,
    publicUrl: config.publicUrl,
    // An incident's `restrict` (deploy is created below; this runs only on a request).
    restrictEnvironment: (envId) => deploy.setMaintenance(envId, true),
  })
  const tenancy = createTenancy({
    db: store.db,
    dialect: store.dialect,
    clock,
    audit,
    secrets,
    baseDomain: config.baseDomain,
    // What an environment deletion would destroy (services are created below; this runs only on a request).
    environmentContents: (envId) => services.inventory(envId),
    // A local repository is checked where a deployment would check it (exists, inside the allowed roots).
    checkRepository: (repository) => {
      if (!repository.startsWith('https://'))
        resolveRepository(repository, { localRoots: config.gitLocalRoots, dataDir: config.dataDir })
    },
  })
  // Deploy is created below (it needs the edge); the monitor reads it only on a scrape, a round or a request.
  const monitor = createMonitor({
    db: store.db,
    audit,
    dataDir: config.dataDir,
    logger,
    metricsToken: config.metricsToken,
    processes: () => deploy.processReports(),
    servingLogKey: (envId) => deploy.servingLogKey(envId),
    logs: () => deploy.logs,
    // The runtime catalog is opened below; read on a scrape or a round only.
    runtimeCatalog: () => runtimes.catalog(),
    now: () => clock.now().getTime(),
    mailer,
    secrets,
    publicUrl: config.publicUrl,
    allowPrivateWebhooks: config.webhooksAllowPrivate,
    // The edge is created below; its renewal runs in monitor rounds only.
    renewCertificates: async (aheadMs) => [
      ...(await edge.renewCertificates(aheadMs)),
      ...((await acme?.renewDue(aheadMs)) ?? []),
    ],
  })
  // The WAF is compiled on first use (tests that never send traffic through the edge never pay for it).
  let wafCache: ReturnType<typeof createWafCache> | undefined
  const wafs = (): ReturnType<typeof createWafCache> =>
    (wafCache ??= createWafCache({ crsDir: config.crsDir, logger }))
  // Earlier versions kept the local CA at <data>/edge/edge/ca: moved once to <data>/edge/ca (docs/edge.md).
  const movedEdge = await moveLegacyEdgeFiles(config.dataDir)
  if (movedEdge.moved.length > 0)
    logger.info(
      { moved: movedEdge.moved, to: edgePaths(config.dataDir).dir },
      `edge files moved from ${path.join(config.dataDir, 'edge', 'edge')} to ${edgePaths(config.dataDir).dir}`,
    )
  if (movedEdge.kept.length > 0)
    logger.warn(
      { kept: movedEdge.kept },
      `${path.join(config.dataDir, 'edge', 'edge')} still holds ${movedEdge.kept.join(', ')}: the copies in ${edgePaths(config.dataDir).dir} are used; remove the old ones`,
    )
  const edge = await createEdge(edgeOptionsOf(config), {
    // The platform's clock: certificates are issued, cached and renewed by the time the monitor's rules read.
    now: () => clock.now().getTime(),
    inspector: createWafInspector((route) => wafs().wafFor(route)),
    logger,
    onWafEvent: (event) => recordWafEvents(tenancy, [event], logger, false),
    onAccessLog: monitor.onAccessLog,
    secretValues: (envId) => tenancy.secretValues.get(envId),
  })
  // Edge workers: their WAF events reach the store in batches (one write per environment per half second,
  // however large a flood), their counters feed the metrics here.
  const wafBatcher = createEventBatcher<WafEvent>(
    (events) => recordWafEvents(tenancy, events, logger, true),
    {
      intervalMs: 500,
      maxItems: 20_000,
    },
  )
  const ipc = options.edgeWorkers
  const edgeLink = ipc
    ? createControlLink({
        routes: edge.routes,
        secretValues: (envId) => tenancy.secretValues.get(envId),
        onEvents: (waf, access, metrics) => {
          wafBatcher.push(waf)
          monitor.onWorkerEvents(access, metrics)
        },
        logger,
        send: ipc.send,
        subscribe: ipc.subscribe,
      })
    : undefined
  // `palisade logs` reads the lines each worker keeps; only followed environments' lines travel here.
  if (edgeLink) monitor.connectEdgeWorkers(edgeLink)
  const acme = config.acmeDirectoryUrl
    ? createAcme(config, { edge, edgeLink, logger, now: () => clock.now().getTime(), store, audit })
    : undefined
  const isolate = options.deploy?.isolate ?? process.getuid?.() === 0
  // The data dir holds the master key and the store: private to the control plane from the first start.
  if (isolate) {
    try {
      hardenDataDir(config.dataDir, (m) => logger.warn(m))
    } catch (err) {
      logger.warn({ err }, 'the data directory could not be hardened')
    }
  }
  const driver = createLocalDriver({
    dataDir: config.dataDir,
    isolate,
    ...(options.deploy?.limits === false ? { limits: false } : {}),
    ...(config.extraCaCerts === undefined ? {} : { extraCaCerts: config.extraCaCerts }),
    onWarning: (m) => logger.warn(m),
    onEgressRefusal: (environmentId, target, reason) =>
      logger.warn({ environmentId, target, reason }, 'egress refused'),
  })
  // The runtime catalog (a refreshed file or the shipped snapshot); plans see each release's pinned version.
  const runtimes = createRuntimes({
    dataDir: config.dataDir,
    clock,
    currentVersion: async (env) => (await deploy.currentRelease(env.id))?.runtimeVersion ?? null,
  })
  // node@… releases run on an exact, installed Node.js version unless PALISADE_RUNTIME_PINNING=off.
  const runtimePins = config.runtimePinning
    ? createRuntimePins({ dataDir: config.dataDir, catalog: () => runtimes.catalog(), clock })
    : undefined
  // PALISADE_DRIVER=kubernetes: environments are applied to the cluster and reconciled; releases, jobs and
  // services run there (the deployer's and the services' cluster seams). The edge proxies to the app's
  // cluster Service, which it reaches when Palisade runs in the cluster (README, "Kubernetes").
  const kubernetes =
    config.driver === 'kubernetes'
      ? createKubernetesControl({
          db: store.db,
          audit,
          driver: createKubernetesDriver({ client: kubeClientFor(config) }),
          resolveVariables: (envId) => tenancy.variables.resolve(envId),
          // Services are created below; the variables are read at each apply.
          serviceVariables: (envId) => services.connectionVariables(envId),
          registry: config.k8sRegistry,
        })
      : undefined
  const deploy = createDeploy({
    db: store.db,
    audit,
    clock,
    tenancy,
    driver,
    dataDir: config.dataDir,
    baseDomain: config.baseDomain,
    gitLocalRoots: config.gitLocalRoots,
    logger,
    wafSettings: (envId) => tenancy.waf.effective(envId),
    ...(edgeLink ? { edgeApplied: () => edgeLink.applied() } : {}),
    // Services are created after deploy (they need its driver); the variables are read at each start.
    serviceVariables: (envId) => services.connectionVariables(envId),
    ...(runtimePins ? { runtimePins } : {}),
    ...(kubernetes ? { cluster: kubernetes.releases } : {}),
    ...(options.deploy?.options ? { options: options.deploy.options } : {}),
    domains: {
      ...options.domains,
      certificate: (name, routed) =>
        acme ? acme.status(name, routed) : localCaStatus(config.dataDir, name, routed),
    },
  })
  // Services run as the environment's own system user (created by the deploy driver), so that only that
  // environment's processes can open their sockets.
  // What services (backups, restores) and sync share; a restore or a sync holds the environment in
  // maintenance (the edge answers 503) while its data is replaced.
  const dataDeps = {
    db: store.db,
    audit,
    clock,
    tenancy,
    secrets,
    dataDir: config.dataDir,
    logger,
    holdMaintenance: (envId: string) => deploy.holdMaintenance(envId),
    maintenanceOf: (envId: string) => deploy.maintenanceOf(envId),
    setMaintenance: (envId: string, on: boolean) => deploy.setMaintenance(envId, on),
    files: driver.files,
  }
  const services = createServices({
    ...dataDeps,
    serverGuard: createServerGuard(config.dataDir),
    backupImportLimit: config.backupImportLimit,
    environmentUser: async (envId) => {
      await driver.prepareEnvironment(envId, path.join(config.dataDir, 'envs', envId))
      const identity = driver.identityOf(envId)
      return identity ? { ...identity, sandbox: driver.serviceSandbox(envId) } : null
    },
    // Each service runs in its own cgroup with its share of the environment's sizing (#20).
    serviceLauncher: async (envId, serviceId) =>
      driver.serviceLauncher?.(envId, serviceId, (await deploy.sizingPlanOf(envId)).service) ?? null,
    ...(kubernetes ? { cluster: kubernetes.services } : {}),
  })
  const sync = createSync({ ...dataDeps, services, engines: ENGINES })
  const backupScheduler = createBackupScheduler({
    backups: services.backups,
    logger,
    ...(options.backupScheduler?.intervalMs ? { intervalMs: options.backupScheduler.intervalMs } : {}),
  })
  const tokenFile = path.join(config.dataDir, 'setup-token')

  const runtimeUpdates = createRuntimeUpdates({
    db: store.db,
    audit,
    tenancy,
    runtimes,
    deploy,
    mailer,
    publicUrl: config.publicUrl,
    clock,
    logger,
  })

  const deps: AppDeps = {
    db: store.db,
    identity,
    tenancy,
    audit,
    logger,
    deploy,
    services,
    sync,
    runtimes,
    runtimeUpdates,
    decide: {
      wafForTuning: (tuning, envId) => wafs().wafForTuning(tuning, envId),
      ratePerMinute: config.decideRatePerMinute,
    },
    version: VERSION,
    ...(edgeLink ? { edgeWorkers: () => edgeLink.status() } : {}),
    monitor,
    publicUrl: config.publicUrl,
    sessionPolicy: { idleMinutes: config.sessionIdleMinutes, absoluteHours: config.sessionAbsoluteHours },
    ...consoleOf(options.consoleDir === undefined ? DEFAULT_CONSOLE_DIR : options.consoleDir),
    onSetupComplete: () => rmSync(tokenFile, { force: true }),
    onEnvironmentsRemoved: () => {
      void sweepRemovedEnvironments(store, config.dataDir, deploy, services).catch((err: unknown) =>
        logger.error({ err }, 'cleaning up after deleted environments failed'),
      )
      void kubernetes
        ?.sweepRemoved()
        .catch((err: unknown) =>
          logger.error({ err }, 'removing deleted environments from the cluster failed'),
        )
    },
    onEnvironmentChanged: (envId) => {
      void kubernetes
        ?.apply(envId)
        .catch((err: unknown) =>
          logger.error({ err, environmentId: envId }, 'applying to the cluster failed'),
        )
      void deploy
        .publish(envId)
        .catch((err: unknown) => logger.error({ err, environmentId: envId }, 'route refresh failed'))
    },
  }
  const app = buildApp(deps)
  await tenancy.secretValues.load()
  await deploy.attachRoutes(edge.routes)

  const token = await tenancy.setup.issueToken()
  if (token) {
    writeFileSync(tokenFile, token + '\n', { mode: 0o600 })
    const announce = options.announce ?? ((line: string) => logger.warn(line))
    announce(`Palisade is not set up yet. One-time setup token (also in ${tokenFile}): ${token}`)
  } else {
    rmSync(tokenFile, { force: true })
  }

  return {
    config,
    store,
    audit,
    tenancy,
    deploy,
    services,
    sync,
    backupScheduler,
    edge,
    edgeLink,
    acme,
    runtimeUpdates,
    warmWaf: () => wafs().rules,
    app,
    logger,
    kubernetes,
    monitor,
    async close() {
      await app.close()
      acme?.close()
      edgeLink?.close()
      wafBatcher.close()
      await edge.close()
      await deploy.close()
      await backupScheduler.stop()
      await sync.close()
      await services.stopAll()
      await identityStores.close()
      await store.close()
    },
  }
}

/**
 * Stops and removes what ran for environments that no longer exist (their rows went by cascade): services
 * first, then the app, its route and its directory. Directories under `<data>/envs` are the inventory.
 */
async function sweepRemovedEnvironments(
  store: Store,
  dataDir: string,
  deploy: Deploy,
  services: Services,
): Promise<void> {
  const envsDir = path.join(dataDir, 'envs')
  const onDisk = existsSync(envsDir) ? readdirSync(envsDir) : []
  const existing = new Set(
    (await store.db.selectFrom('environments').select('id').execute()).map((r) => r.id),
  )
  for (const id of onDisk.filter((d) => !existing.has(d))) {
    crashPoint('environment.sweep')
    await services.removeEnvironment(id)
    await deploy.removeEnvironment(id)
  }
}

function consoleOf(dir: string | null): Pick<AppDeps, 'console'> {
  const files = dir === null ? undefined : loadConsoleFiles(dir)
  return files ? { console: files } : {}
}

/**
 * The control plane's ACME orders: custom domains in the route table get a certificate from the directory;
 * the HTTP-01 answers are published on every edge worker (and this process's edge) before the CA validates;
 * each issuance, renewal and failure is an audit event (actor: platform) in the domain's environment.
 */
function createAcme(
  config: Config,
  deps: {
    edge: Edge
    edgeLink: ControlLink | undefined
    logger: Logger
    now: () => number
    store: Store
    audit: AuditLog
  },
): AcmeManager {
  const { edge, edgeLink } = deps
  const responder: ChallengeResponder = {
    async set(token, keyAuthorization) {
      edge.challenges.set(token, keyAuthorization)
      await edgeLink?.setChallenge(token, keyAuthorization)
    },
    async delete(token) {
      edge.challenges.delete(token)
      await edgeLink?.setChallenge(token, null)
    },
  }
  const issuer = new AcmeIssuer(
    {
      directoryUrl: config.acmeDirectoryUrl ?? '',
      email: config.acmeEmail,
      caPem: config.acmeCaFile === undefined ? undefined : readFileSync(config.acmeCaFile, 'utf8'),
    },
    config.dataDir,
    responder,
  )
  const base = config.baseDomain
  const retryMs = testHooksFromEnv().acmeRetryMs
  const manager = new AcmeManager({
    issuer,
    dataDir: config.dataDir,
    logger: deps.logger,
    now: deps.now,
    ...(retryMs === undefined ? {} : { retryMs }),
    // Custom domains only: default hosts (under the base domain) keep the local CA's certificates.
    hosts: function* () {
      for (const route of edge.routes.list())
        for (const host of route.hosts) if (host !== base && !host.endsWith(`.${base}`)) yield host
    },
    onOutcome: async (outcome) => {
      if (outcome.kind !== 'failed') {
        edge.forgetCertificate(outcome.host)
        await edgeLink?.certificateChanged(outcome.host)
      }
      await auditCertificate(deps.store, deps.audit, outcome)
    },
  })
  // A newly routed custom domain is ordered at once (batched per turn, like the workers' programming).
  let queued = false
  edge.routes.onChange(() => {
    if (queued) return
    queued = true
    queueMicrotask(() => {
      queued = false
      void manager.sync()
    })
  })
  return manager
}

async function auditCertificate(store: Store, audit: AuditLog, outcome: AcmeOutcome): Promise<void> {
  const domain = await store.db
    .selectFrom('environment_domains')
    .innerJoin('environments', 'environments.id', 'environment_domains.environment_id')
    .select([
      'environment_domains.environment_id as environmentId',
      'environment_domains.workspace_id as workspaceId',
      'environments.project_id as projectId',
    ])
    .where('environment_domains.name', '=', outcome.host)
    .executeTakeFirst()
  if (!domain) return // unrouted meanwhile: no environment to record it in
  const failed = outcome.kind === 'failed'
  await audit.recordAlone({
    actor: actorOf(PLATFORM),
    action:
      outcome.kind === 'renewed' || (failed && outcome.renewal)
        ? 'environment.domain.certificate.renew'
        : 'environment.domain.certificate.issue',
    target: { type: 'domain', id: outcome.host },
    workspaceId: domain.workspaceId,
    projectId: domain.projectId,
    environmentId: domain.environmentId,
    outcome: failed ? 'failure' : 'success',
    changes: failed
      ? diffChanges(null, { source: 'acme', status: 'failed', lastError: outcome.reason })
      : diffChanges(null, {
          source: 'acme',
          status: 'valid',
          issuer: outcome.issuer,
          notAfter: outcome.notAfter.toISOString(),
        }),
    context: PLATFORM_CONTEXT,
  })
}

/**
 * Stores what the edge's WAF decided in the environments' WAF event logs, one write per environment;
 * a failure never touches traffic.
 */
function recordWafEvents(
  tenancy: Tenancy,
  events: readonly WafEvent[],
  logger: Logger,
  /** Batches keep when the edge saw each request; a single event is stamped by the store's clock. */
  edgeTime: boolean,
): void {
  const byEnv = new Map<string, WafEvent[]>()
  for (const e of events) {
    const list = byEnv.get(e.environmentId)
    if (list) list.push(e)
    else byEnv.set(e.environmentId, [e])
  }
  for (const [envId, list] of byEnv) {
    tenancy.waf
      .recordEvents(
        envId,
        list.map((event) => ({
          ...(edgeTime ? { at: event.at } : {}),
          requestId: event.requestId,
          clientIp: event.clientIp,
          host: event.host,
          method: event.method,
          uri: event.path,
          action: event.action,
          score: event.score,
          rules: event.matches.map((m) => ({ id: Number(m.id), msg: m.msg, data: m.data })),
        })),
      )
      .catch((err: unknown) =>
        logger.error({ err, environmentId: envId, events: list.length }, 'storing WAF events failed'),
      )
  }
}

/** Scheduled housekeeping: checkpoints every hour, pruning past the retention once a day. */
export function startAuditHousekeeping(platform: Platform, clock: Clock = systemClock): () => void {
  const { audit, config, logger } = platform
  const checkpoint = (): void => {
    audit.checkpointAll().catch((err: unknown) => logger.error({ err }, 'audit checkpoint failed'))
  }
  const prune = (): void => {
    const cut = new Date(clock.now().getTime() - config.auditRetentionDays * 86_400_000)
    audit
      .prune(cut)
      .then((n) => n > 0 && logger.info({ removed: n }, 'audit events past retention pruned'))
      .catch((err: unknown) => logger.error({ err }, 'audit pruning failed'))
  }
  const timers = [setInterval(checkpoint, 3600_000), setInterval(prune, 86_400_000)]
  for (const t of timers) t.unref()
  setImmediate(prune)
  return () => timers.forEach(clearInterval)
}

/** Re-checks verified custom domains' proofs every hour (each one at most every 6 h); lost proofs unroute. */
export function startDomainRechecks(platform: Platform): () => void {
  const recheck = (): void => {
    platform.deploy
      .recheckDomains(DOMAIN_DEFAULTS.recheckIntervalMs)
      .then(
        (r) =>
          r.unrouted > 0 &&
          platform.logger.warn(r, 'custom domains lost their proof and are no longer routed'),
      )
      .catch((err: unknown) => platform.logger.error({ err }, 'custom domain re-check failed'))
  }
  const timer = setInterval(recheck, 3600_000)
  timer.unref()
  return () => clearInterval(timer)
}

/**
 * Under the kubernetes driver: reconciles every environment now, then every minute (which also applies
 * environments created since). Answers the stop function.
 */
export async function startKubernetesReconcile(platform: Platform, everyMs = 60_000): Promise<() => void> {
  const k = platform.kubernetes
  if (!k) return () => undefined
  const run = async (): Promise<void> => {
    const reports = await k.reconcileAll()
    for (const r of reports)
      platform.logger.warn({ environmentId: r.environmentId, repaired: r.repaired }, 'cluster drift repaired')
  }
  await run()
  platform.logger.info('kubernetes driver: every environment reconciled with the cluster')
  const timer = setInterval(() => {
    run().catch((err: unknown) => platform.logger.error({ err }, 'kubernetes reconcile failed'))
  }, everyMs)
  timer.unref()
  return () => clearInterval(timer)
}

/** `palisade serve`: start everything and stop cleanly on SIGINT/SIGTERM. */
export async function serve(config: Config, role: 'control' | 'single' = 'single'): Promise<Platform> {
  // Signals are taken from the first moment: a SIGTERM while the platform is still starting (adopting apps,
  // starting databases) would otherwise end the process at once and leave everything it started running.
  let stopNow: ((signal: string) => void) | null = null
  let stopAsked: string | null = null
  const onSignal = (signal: NodeJS.Signals): void => {
    stopAsked = signal
    stopNow?.(signal)
  }
  // Under the supervisor: the edge runs in worker processes programmed over this IPC channel.
  const supervised = role === 'control' && typeof process.send === 'function'
  if (supervised) {
    // A signal to the whole process group and the supervisor's own SIGTERM both arrive: one stop.
    process.on('SIGINT', (signal) => stopAsked === null && onSignal(signal))
    process.on('SIGTERM', (signal) => stopAsked === null && onSignal(signal))
  } else {
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
  }
  if (supervised) {
    // The supervisor was killed (kill -9 of `palisade serve`): this process ends as abruptly, as it would
    // have as one process; apps and services are adopted by the next start.
    process.on('disconnect', () => process.kill(process.pid, 'SIGKILL'))
    // Tests' crash points stand for a power cut of the whole `palisade serve`: the supervisor goes first.
    onCrashPoint(() => process.kill(process.ppid, 'SIGKILL'))
  }
  armCrashPoints(crashPointsFromEnv())
  if (armedCrashPoints().length > 0)
    process.stderr.write(`[palisade] TEST crash points armed: ${armedCrashPoints().join(',')}\n`)
  // PALISADE_TEST_HOOKS=1 PALISADE_TEST_DNS_SERVER: domain proofs ask a test's DNS responder.
  const dnsServer = testHooksFromEnv().dnsServer
  const testResolver = dnsServer === undefined ? undefined : new Resolver()
  testResolver?.setServers([dnsServer as string])
  const platform = await createPlatform(config, {
    announce: (line) => process.stdout.write(line + '\n'),
    ...(testResolver
      ? { domains: { proof: { resolveTxt: (name: string) => testResolver.resolveTxt(name) } } }
      : {}),
    ...(supervised
      ? {
          edgeWorkers: {
            send: (message: unknown) => {
              if (process.connected) process.send?.(message)
            },
            subscribe: (listener: (message: unknown) => void) => {
              process.on('message', listener)
              return () => process.off('message', listener)
            },
          },
        }
      : {}),
  })
  // Before the API takes requests: syncs a stopped control plane left running are failed and their work
  // directories removed (after listening, a new sync could be taken for one of them).
  await platform.sync.recover()
  // Before the API takes a deployment and the edge takes traffic: what survived the last control plane is
  // settled, adopted or stopped (docs/crash-safety.md), so that no new work races a takeover.
  const reconcileStarted = performance.now()
  const reconciled = await platform.deploy.reconcile()
  platform.logger.info(
    { ...reconciled, durationMs: Math.round(performance.now() - reconcileStarted) },
    'processes reconciled with the store',
  )
  // The workers get the whole route table now that every target is known (a restarted control plane
  // never programs them with half-known targets: they keep serving the last snapshot until this).
  if (supervised) {
    // The edge CA is created here once, before any worker opens it.
    const { LocalCa } = await import('./edge/local-ca.js')
    await LocalCa.open(path.join(config.dataDir, 'edge'))
    platform.edgeLink?.start()
  }
  // ACME orders start once the workers are programmed (they answer the CA's HTTP-01 requests).
  await platform.acme?.start()
  crashPoint('serve.reconciled')
  // The control plane's own record (root-only): `palisade doctor` tells from it whether one runs.
  const pidFile = path.join(config.dataDir, 'serve.pid')
  // Replaced whole (temporary file, rename): `doctor` and a restarted supervisor's readers never see it torn.
  writeFileDurably(pidFile, JSON.stringify({ pid: process.pid, startTime: processStartTime(process.pid) }))
  await platform.app.listen({ host: config.apiListen.host, port: config.apiListen.port })
  const stopHousekeeping = startAuditHousekeeping(platform)
  const stopDomainRechecks = startDomainRechecks(platform)
  const isolation = platform.deploy.isolation
  if (isolation.mode === 'none') platform.logger.warn({ isolation: isolation.mode }, isolation.summary)
  else platform.logger.info({ isolation: isolation.mode }, isolation.summary)
  if (supervised) {
    // As before the workers existed, the API answers first; /v1/health says `degraded` until every worker
    // has its routes, its compiled WAF and its sockets (at once after a control-plane restart).
    void platform.edgeLink
      ?.ready(300_000)
      .then((ok) =>
        ok
          ? platform.logger.info(
              { workers: config.edgeWorkers, localCa: edgePaths(config.dataDir).caCert },
              'edge workers serving; the WAF is on for every environment (trust the local CA for HTTPS: palisade ca)',
            )
          : platform.logger.warn('not every edge worker is serving; see palisade doctor'),
      )
  } else {
    const rules = platform.warmWaf()
    const edgeAddress = await platform.edge.listen()
    platform.logger.info(
      {
        http: edgeAddress.http.port,
        https: edgeAddress.https.port,
        wafRules: rules,
        localCa: edgePaths(config.dataDir).caCert,
      },
      'edge listening; the WAF is on for every environment (trust the local CA for HTTPS: palisade ca)',
    )
  }
  // The cluster first (kubernetes driver): what drifted while the control plane was down is put back and
  // audited; a cluster that cannot be reached stops the start with its error.
  const stopKubeReconcile = await startKubernetesReconcile(platform)
  // Databases first: the apps that resume next connect to them at start; routes switch when each is healthy.
  await platform.services.startAll()
  // Restores a stopped control plane left half-way get their data from before back, before the apps start.
  await platform.services.backups.recover()
  // Syncs a stopped control plane left replacing their target's data: the target gets its backup back.
  await platform.sync.undoInterrupted()
  crashPoint('serve.recovered')
  await platform.deploy.resume()
  // Environments deleted while a control plane died half-way through removing them: finished now.
  void sweepRemovedEnvironments(platform.store, config.dataDir, platform.deploy, platform.services).catch(
    (err: unknown) => platform.logger.error({ err }, 'cleaning up after deleted environments failed'),
  )
  platform.backupScheduler.start()
  const stopMonitor = platform.monitor.start()
  // Runtime updates: due plan steps are applied in each environment's maintenance window.
  const stopRuntimeUpdates = platform.runtimeUpdates.start()
  if (!config.runtimePinning)
    platform.logger.warn(
      "runtime pinning is off (PALISADE_RUNTIME_PINNING=off): node@… apps run on this host's node and are not updated by the platform",
    )
  platform.logger.info(
    { api: `http://${config.apiListen.host}:${config.apiListen.port}`, store: platform.store.dialect },
    'palisade is serving',
  )
  const stop = (signal: string): void => {
    platform.logger.info({ signal }, 'shutting down')
    stopKubeReconcile()
    stopHousekeeping()
    stopDomainRechecks()
    stopRuntimeUpdates()
    stopMonitor()
    void platform.audit
      .checkpointAll()
      .catch(() => undefined)
      .finally(() => {
        void platform.close().finally(() => {
          rmSync(pidFile, { force: true })
          platform.logger.info('stopped')
          process.exit(0)
        })
      })
  }
  stopNow = stop
  if (stopAsked !== null) stop(stopAsked)
  return platform
}
