// @peculiar/x509 resolves its services through tsyringe, which needs a Reflect metadata polyfill loaded first.
// reflect-metadata is installed (via acme-client) but should be a direct dependency: see docs/edge.md.
import 'reflect-metadata'
import { webcrypto, X509Certificate as NodeX509 } from 'node:crypto'
import { chmod, mkdir, readFile, stat, writeFile, rename } from 'node:fs/promises'
import { join } from 'node:path'
import * as x509 from '@peculiar/x509'
import { RENEW_BEFORE_MS } from './cert-renewal.js'
import { edgePaths } from './edge-paths.js'

x509.cryptoProvider.set(webcrypto)

const KEY_ALG = { name: 'ECDSA', namedCurve: 'P-256' } as const
const SIGN_ALG = { name: 'ECDSA', hash: 'SHA-256' } as const
const DAY_MS = 86_400_000
const LEAF_DAYS = 90

export interface CertificatePair {
  /** PEM private key (PKCS#8). */
  readonly key: string
  /** PEM certificate chain: leaf then CA. */
  readonly cert: string
  readonly notAfter: Date
}

/**
 * A certificate authority private to this Palisade installation. Created at first start under
 * `<data>/edge/ca/` (ca.key mode 0600, ca.crt for users to trust), it signs a leaf certificate per host name
 * on demand. Leaves are cached in memory and under `<data>/edge/certs/`.
 */
export class LocalCa {
  readonly caCertPath: string
  readonly caCertPem: string
  readonly #caKey: webcrypto.CryptoKey
  readonly #caCert: x509.X509Certificate
  readonly #certsDir: string
  readonly #now: () => number
  readonly #memory = new Map<string, CertificatePair>()
  readonly #pending = new Map<string, Promise<CertificatePair>>()

  private constructor(
    caCertPath: string,
    caCertPem: string,
    caKey: webcrypto.CryptoKey,
    caCert: x509.X509Certificate,
    certsDir: string,
    now: () => number,
  ) {
    this.caCertPath = caCertPath
    this.caCertPem = caCertPem
    this.#caKey = caKey
    this.#caCert = caCert
    this.#certsDir = certsDir
    this.#now = now
  }

  /** Loads the CA from `<dataDir>/edge/ca/`, creating it on first start. */
  static async open(dataDir: string, options: { now?: () => number } = {}): Promise<LocalCa> {
    const now = options.now ?? Date.now
    const { caDir, certsDir, caKey: keyPath, caCert: certPath } = edgePaths(dataDir)
    await mkdir(caDir, { recursive: true, mode: 0o700 })
    await mkdir(certsDir, { recursive: true, mode: 0o700 })
    let keyPem: string
    let certPem: string
    try {
      ;[keyPem, certPem] = await Promise.all([readFile(keyPath, 'utf8'), readFile(certPath, 'utf8')])
      // Threat: a CA key readable by other local users lets them mint certificates users' browsers trust.
      if (((await stat(keyPath)).mode & 0o077) !== 0) await chmod(keyPath, 0o600)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
      ;({ keyPem, certPem } = await createCa(now))
      await writeFile(keyPath, keyPem, { mode: 0o600, flag: 'wx' })
      await writeFile(certPath, certPem, { mode: 0o644, flag: 'wx' })
    }
    const caKey = await importKey(keyPem)
    const caCert = new x509.X509Certificate(certPem)
    return new LocalCa(certPath, certPem, caKey, caCert, certsDir, now)
  }

  /** A certificate for `host` (already validated and lowercased by the caller), issued on first use. */
  async certificateFor(host: string): Promise<CertificatePair> {
    const cached = this.#memory.get(host)
    if (cached && this.#fresh(cached)) return cached
    const pending = this.#pending.get(host)
    if (pending) return pending
    const work = this.#loadOrIssue(host).finally(() => this.#pending.delete(host))
    this.#pending.set(host, work)
    return work
  }

  /**
   * Issues a new leaf for `host` now, whatever the one held has left (the edge's renewal round renews ahead of
   * the window so that no leaf enters it between two rounds).
   */
  async renew(host: string): Promise<CertificatePair> {
    const pending = this.#pending.get(host)
    if (pending) await pending.catch(() => undefined)
    const work = this.#issueAndStore(host).finally(() => this.#pending.delete(host))
    this.#pending.set(host, work)
    return work
  }

  #fresh(pair: CertificatePair): boolean {
    return pair.notAfter.getTime() - this.#now() > RENEW_BEFORE_MS
  }

  async #loadOrIssue(host: string): Promise<CertificatePair> {
    const keyPath = join(this.#certsDir, `${host}.key`)
    const certPath = join(this.#certsDir, `${host}.crt`)
    try {
      const [key, cert] = await Promise.all([readFile(keyPath, 'utf8'), readFile(certPath, 'utf8')])
      const leaf = new NodeX509(cert)
      const pair = { key, cert, notAfter: new Date(leaf.validTo) }
      if (this.#fresh(pair) && leaf.checkIssued(new NodeX509(this.caCertPem))) {
        this.#memory.set(host, pair)
        return pair
      }
    } catch {
      // missing or unreadable: issue a new one
    }
    return this.#issueAndStore(host)
  }

  async #issueAndStore(host: string): Promise<CertificatePair> {
    const pair = await this.#issue(host)
    await writeAtomic(join(this.#certsDir, `${host}.key`), pair.key, 0o600)
    await writeAtomic(join(this.#certsDir, `${host}.crt`), pair.cert, 0o644)
    this.#memory.set(host, pair)
    return pair
  }

  async #issue(host: string): Promise<CertificatePair> {
    const keys = await webcrypto.subtle.generateKey(KEY_ALG, true, ['sign', 'verify'])
    const notBefore = new Date(this.#now() - 60_000)
    const notAfter = new Date(this.#now() + LEAF_DAYS * DAY_MS)
    const leaf = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject: `CN=${host}`,
      issuer: this.#caCert.subject,
      notBefore,
      notAfter,
      signingAlgorithm: SIGN_ALG,
      publicKey: keys.publicKey,
      signingKey: this.#caKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: host }]),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
        await x509.AuthorityKeyIdentifierExtension.create(this.#caCert),
      ],
    })
    return {
      key: await exportKey(keys.privateKey),
      cert: `${leaf.toString('pem')}\n${this.caCertPem.trim()}\n`,
      notAfter,
    }
  }
}

async function createCa(now: () => number): Promise<{ keyPem: string; certPem: string }> {
  const keys = await webcrypto.subtle.generateKey(KEY_ALG, true, ['sign', 'verify'])
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `CN=Palisade local CA ${new Date(now()).toISOString().slice(0, 10)}, O=Palisade`,
    notBefore: new Date(now() - 60_000),
    notAfter: new Date(now() + 10 * 365 * DAY_MS),
    signingAlgorithm: SIGN_ALG,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  })
  return { keyPem: await exportKey(keys.privateKey), certPem: `${cert.toString('pem')}\n` }
}

function randomSerial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16))
  bytes[0] = (bytes[0] as number) & 0x7f // positive INTEGER
  return Buffer.from(bytes).toString('hex')
}

async function exportKey(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key))
  const b64 = der.toString('base64').replace(/.{64}/g, '$&\n')
  return `-----BEGIN PRIVATE KEY-----\n${b64.trim()}\n-----END PRIVATE KEY-----\n`
}

async function importKey(pem: string): Promise<webcrypto.CryptoKey> {
  const b64 = pem.replace(/-----(BEGIN|END) PRIVATE KEY-----/g, '').replace(/\s+/g, '')
  return webcrypto.subtle.importKey('pkcs8', Buffer.from(b64, 'base64'), KEY_ALG, false, ['sign'])
}

async function writeAtomic(path: string, data: string, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`
  await writeFile(tmp, data, { mode })
  await rename(tmp, path)
}
