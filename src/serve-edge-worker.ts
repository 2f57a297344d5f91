import type { Config, ListenAddress } from './config/index.js'
import { EDGE_DEFAULT_LIMITS, runEdgeWorker, type EdgeOptions } from './edge/index.js'
import { createBufferedLogger, createLogger } from './shared/log.js'

/*
 * An edge worker's entry, apart from main.ts: a worker loads the edge and its WAF, not the store, the API and
 * the rest of the control plane (most of the code, which would slow every worker's start and restart).
 */

function listenText(address: ListenAddress): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`
}

/** The edge's options from the configuration (the same for the in-process edge and every edge worker). */
export function edgeOptionsOf(config: Config): EdgeOptions {
  return {
    httpListen: listenText(config.edgeHttpListen),
    httpsListen: listenText(config.edgeHttpsListen),
    dataDir: config.dataDir,
    baseDomain: config.baseDomain,
    limits: {
      ...EDGE_DEFAULT_LIMITS,
      maxBodyBytes: config.edgeBodyLimit,
      headerTimeoutMs: config.edgeHeaderTimeout * 1000,
      idleTimeoutMs: config.edgeIdleTimeout * 1000,
      maxConnectionsPerClient: config.edgeMaxConnectionsPerClient,
    },
    // Client addresses come from forwarding headers only when the peer is a named proxy.
    trustProxy: config.trustedProxies.length > 0 ? config.trustedProxies : false,
    // Workers serve the ACME certificates the control plane stores (they never order one themselves).
    acme: config.acmeDirectoryUrl ? { directoryUrl: config.acmeDirectoryUrl, email: config.acmeEmail } : null,
  }
}

/**
 * One edge worker of `palisade serve` (started by the supervisor): the whole edge pipeline with its own
 * compiled WAFs, programmed by the control plane through the supervisor. No store, no API.
 */
export async function serveEdgeWorker(config: Config): Promise<void> {
  const format = process.stderr.isTTY ? 'text' : 'json'
  const logger = createLogger({ level: config.logLevel, format })
  // The access log (one line per request) is buffered and written asynchronously, off the request path.
  const access = createBufferedLogger({ level: config.logLevel, format })
  await runEdgeWorker({
    edge: edgeOptionsOf(config),
    crsDir: config.crsDir,
    logger,
    accessLogger: access.logger,
    flushAccessLog: access.flush,
  })
}
