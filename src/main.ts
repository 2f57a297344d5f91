import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { FastifyInstance } from 'fastify'
import { buildApp, type AppDeps } from './api/index.js'
import { createAuditLog, createCheckpointSigner, generateSigningKeyPem, type AuditLog } from './audit/index.js'
import type { Config } from './config/index.js'
import { createDeploy, createLocalDriver, type Deploy, type DeployOptions } from './deploy/index.js'
import { createIdentity, createIdentityStores, createMailer } from './iam/index.js'
import { createRuntimes } from './runtimes/index.js'
import { createServices, type Services } from './services/index.js'
import { loadMasterKey, loadOrCreateKeyFile } from './keys.js'
import { systemClock, type Clock } from './shared/clock.js'
import { createLogger, type Logger } from './shared/log.js'
import { createSecretBox } from './shared/secret-box.js'
import { migrateToLatest, openStore, type Store } from './store/index.js'
import { createTenancy, type Tenancy } from './tenancy/index.js'
import { VERSION } from './version.js'

export interface Platform {
  readonly config: Config
  readonly store: Store
  readonly audit: AuditLog
  readonly tenancy: Tenancy
  readonly deploy: Deploy
  readonly services: Services
  readonly app: FastifyInstance
  readonly logger: Logger
  close(): Promise<void>
}

export interface PlatformOptions {
  readonly clock?: Clock
  readonly logger?: Logger
  /** Where the one-time setup token is announced (default: the log). */
  readonly announce?: (line: string) => void
  /** Deploy tuning for tests: isolation (default: when running as root) and timings. */
  readonly deploy?: { readonly isolate?: boolean; readonly options?: Partial<DeployOptions> }
}

/**
 * Composition root: opens the store, runs migrations, wires the capabilities and builds the API.
 * Nothing listens yet; `serve` does that.
 */
export async function createPlatform(config: Config, options: PlatformOptions = {}): Promise<Platform> {
  const clock = options.clock ?? systemClock
  const logger = options.logger ?? createLogger({ level: config.logLevel })
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 })
  const store = openStore(config.databaseUrl)
  await migrateToLatest(store.db)
  const secrets = createSecretBox(loadMasterKey(config.dataDir, config.masterKey))
  const signer = createCheckpointSigner(loadOrCreateKeyFile(path.join(config.dataDir, 'audit-signing.pem'), generateSigningKeyPem))
  const audit = createAuditLog({ db: store.db, dialect: store.dialect, clock, signer })
  const identityStores = createIdentityStores({ redisUrl: config.redisUrl, clock })
  const identity = createIdentity({
    db: store.db,
    dialect: store.dialect,
    clock,
    audit,
    sessions: { idleMinutes: config.sessionIdleMinutes, absoluteHours: config.sessionAbsoluteHours },
    secrets,
    throttle: identityStores.throttle,
    nonces: identityStores.nonces,
    mailer: createMailer({ smtpUrl: config.smtpUrl, outboxDir: path.join(config.dataDir, 'outbox') }),
    publicUrl: config.publicUrl,
  })
  const tenancy = createTenancy({ db: store.db, dialect: store.dialect, clock, audit, secrets, baseDomain: config.baseDomain })
  const isolate = options.deploy?.isolate ?? process.getuid?.() === 0
  const driver = createLocalDriver({ dataDir: config.dataDir, isolate, onWarning: (m) => logger.warn(m) })
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
    ...(options.deploy?.options ? { options: options.deploy.options } : {}),
  })
  // Services run as the environment's own system user (created by the deploy driver), so that only that
  // environment's processes can open their sockets.
  const services = createServices({
    db: store.db,
    audit,
    clock,
    tenancy,
    secrets,
    dataDir: config.dataDir,
    logger,
    environmentUser: async (envId) => {
      const envDir = path.join(config.dataDir, 'envs', envId)
      await driver.prepareEnvironment(envId, envDir)
      const st = statSync(envDir)
      return st.uid === process.getuid?.() ? null : { uid: st.uid, gid: st.gid }
    },
  })
  const tokenFile = path.join(config.dataDir, 'setup-token')

  const deps: AppDeps = {
    db: store.db,
    identity,
    tenancy,
    audit,
    logger,
    deploy,
    services,
    runtimes: createRuntimes({ dataDir: config.dataDir, clock }),
    version: VERSION,
    publicUrl: config.publicUrl,
    onSetupComplete: () => rmSync(tokenFile, { force: true }),
  }
  const app = buildApp(deps)

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
    app,
    logger,
    async close() {
      await app.close()
      await deploy.close()
      await services.stopAll()
      await identityStores.close()
      await store.close()
    },
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

/** `palisade serve`: start everything and stop cleanly on SIGINT/SIGTERM. */
export async function serve(config: Config): Promise<Platform> {
  const platform = await createPlatform(config, { announce: (line) => process.stdout.write(line + '\n') })
  await platform.app.listen({ host: config.apiListen.host, port: config.apiListen.port })
  const stopHousekeeping = startAuditHousekeeping(platform)
  const isolation = platform.deploy.isolation
  if (isolation.mode === 'none') platform.logger.warn({ isolation: isolation.mode }, isolation.summary)
  else platform.logger.info({ isolation: isolation.mode }, isolation.summary)
  // Current releases start again; the edge (when wired) receives routes via platform.deploy.attachRoutes(edge.routes).
  // Databases first: the apps that resume next connect to them at start.
  await platform.services.startAll()
  await platform.deploy.resume()
  platform.logger.info({ api: `http://${config.apiListen.host}:${config.apiListen.port}`, store: platform.store.dialect }, 'palisade is serving')
  const stop = (): void => {
    stopHousekeeping()
    void platform.audit
      .checkpointAll()
      .catch(() => undefined)
      .finally(() => {
        void platform.close().finally(() => process.exit(0))
      })
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  return platform
}
