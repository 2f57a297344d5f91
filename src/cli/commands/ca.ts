import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { Command } from 'commander'
import { loadConfig, settingsFromEnv } from '../../config/index.js'
import { stdio, wantsJson, type Io } from '../output.js'

/** What `palisade ca` reports about the local CA. */
export interface LocalCaReport {
  readonly path: string
  readonly exists: boolean
  readonly fingerprintSha256?: string
  readonly notAfter?: string
}

/** Reads the local CA certificate's facts (no key is read). */
export async function localCaReport(dataDir: string): Promise<LocalCaReport> {
  // Loaded here, not at the top: edge/ is most of the platform, which other commands do not need.
  const { edgePaths } = await import('../../edge/index.js')
  const path = edgePaths(dataDir).caCert
  let pem: string
  try {
    pem = readFileSync(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { path, exists: false }
    throw error
  }
  const cert = new X509Certificate(pem)
  return {
    path,
    exists: true,
    fingerprintSha256: cert.fingerprint256,
    notAfter: new Date(cert.validTo).toISOString(),
  }
}

/** The lines that tell a user how to trust the CA (curl, Debian's store, browsers) and reach `*.localhost`. */
export function trustInstructions(caPath: string, exampleHost: string, httpsPort: number): string[] {
  return [
    'Trust it for one command:',
    `  curl --cacert ${caPath} --resolve ${exampleHost}:${httpsPort}:127.0.0.1 https://${exampleHost}:${httpsPort}/`,
    'Trust it on this machine (Debian/Ubuntu):',
    `  sudo cp ${caPath} /usr/local/share/ca-certificates/palisade.crt && sudo update-ca-certificates`,
    'Node.js apps and tools: NODE_EXTRA_CA_CERTS=' + caPath,
    'Browsers: import the file as a certificate authority (Firefox: Settings > Privacy & Security > Certificates >',
    '  View Certificates > Authorities > Import; Chrome/Chromium on Linux: chrome://certificate-manager).',
    `*.localhost names resolve to 127.0.0.1 in browsers; elsewhere use curl's --resolve as above or an /etc/hosts line.`,
    'The CA signs certificates only for host names Palisade routes; keep ca.key (next to it, mode 0600) private.',
  ]
}

/**
 * `palisade ca`: where the edge's local CA certificate is and how to trust it. Reads the same settings as
 * `palisade serve` (PALISADE_DATA_DIR) on this host; `--pem` prints the certificate itself.
 */
export function caCommand(io: Io = stdio): Command {
  return new Command('ca')
    .description(
      "print where the edge's local CA certificate is (HTTPS for *.localhost names) and how to trust it",
    )
    .option('--pem', 'print the certificate (PEM) instead, e.g. to copy it to another machine')
    .action(async (opts: { pem?: boolean }, cmd: Command) => {
      const config = loadConfig(settingsFromEnv())
      const report = await localCaReport(config.dataDir)
      if (opts.pem) {
        if (!report.exists) {
          io.err(`error: no local CA yet at ${report.path}: palisade serve creates it at its first start`)
          process.exitCode = 1
          return
        }
        io.out(readFileSync(report.path, 'utf8').trimEnd())
        return
      }
      if (wantsJson(cmd)) {
        io.out(JSON.stringify(report, null, 2))
        return
      }
      if (!report.exists) {
        io.out(`${report.path} (not created yet: palisade serve creates it at its first start)`)
        return
      }
      io.out(report.path)
      io.out(`SHA-256 fingerprint ${report.fingerprintSha256 ?? '-'}, valid until ${report.notAfter ?? '-'}`)
      const host = `main.shop.acme.${config.baseDomain}`
      for (const line of trustInstructions(report.path, host, config.edgeHttpsListen.port)) io.out(line)
    })
}
