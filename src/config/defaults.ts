/** The embedded defaults: safe, local, no external service needed. */
export const DEFAULTS = {
  dataDir: './.palisade',
  apiListen: '127.0.0.1:8080',
  edgeHttpListen: '0.0.0.0:8000',
  edgeHttpsListen: '0.0.0.0:8443',
  driver: 'local',
  baseDomain: 'localhost',
  crsDir: '/usr/share/modsecurity-crs',
  auditRetentionDays: 90, // days
  sessionIdleMinutes: 30, // minutes (ASVS 7.3.1)
  sessionAbsoluteHours: 12, // hours (ASVS 7.3.2)
  logLevel: 'info',
  edgeBodyLimit: 10 * 1024 * 1024, // bytes
  edgeHeaderTimeout: 20, // seconds for a request head (slowloris)
  edgeIdleTimeout: 5, // seconds of keep-alive idleness
  edgeMaxConnectionsPerClient: 128, // per client address and listener (connection exhaustion)
  backupImportLimit: 2 * 1024 * 1024 * 1024, // bytes (2 GiB): largest archive `backup import` accepts
  decideRatePerMinute: 6000, // 100 decisions/s per key
  runtimePinning: 'on', // node@… releases run on the exact version they pin (installed from the npm registry)
  gitLocalRoots: '.', // the directory `palisade serve` starts in (never `/`); `none` refuses local repositories
} as const
