import { X509Certificate } from 'node:crypto'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { edgePaths } from './edge-paths.js'
import type { CertificatePair } from './local-ca.js'
import type { EdgeAcmeOptions } from './types.js'

export const ACME_CHALLENGE_PREFIX = '/.well-known/acme-challenge/'
const TOKEN_RE = /^[A-Za-z0-9_-]{1,256}$/

/** Pending HTTP-01 answers: token → key authorization. The edge serves them on plain HTTP for any routed host. */
export class AcmeChallengeStore {
  readonly #answers = new Map<string, string>()

  set(token: string, keyAuthorization: string): void {
    if (!TOKEN_RE.test(token)) throw new Error('invalid ACME token')
    this.#answers.set(token, keyAuthorization)
  }

  delete(token: string): void {
    this.#answers.delete(token)
  }

  /** The answer for a request path, or undefined when it is not a pending challenge. */
  answer(path: string): string | undefined {
    if (!path.startsWith(ACME_CHALLENGE_PREFIX)) return undefined
    const token = path.slice(ACME_CHALLENGE_PREFIX.length)
    return TOKEN_RE.test(token) ? this.#answers.get(token) : undefined
  }
}

/**
 * Obtains certificates for custom domains from an ACME CA (HTTP-01) with acme-client. Off unless the edge is
 * configured with `acme: { directoryUrl, email }`. Issued certificates are kept under `<data>/edge/acme/`.
 *
 * Not exercised against a real CA in this repository's tests (no internet here); the challenge responder
 * path is tested end to end.
 */
export class AcmeIssuer {
  readonly #options: EdgeAcmeOptions
  readonly #dir: string
  readonly #challenges: AcmeChallengeStore

  constructor(options: EdgeAcmeOptions, dataDir: string, challenges: AcmeChallengeStore) {
    this.#options = Object.freeze({ ...options })
    this.#dir = edgePaths(dataDir).acmeDir
    this.#challenges = challenges
  }

  /** A stored certificate for `host` that is still valid for more than 14 days, or undefined. */
  async stored(host: string, now = Date.now()): Promise<CertificatePair | undefined> {
    try {
      const [key, cert] = await Promise.all([
        readFile(join(this.#dir, `${host}.key`), 'utf8'),
        readFile(join(this.#dir, `${host}.crt`), 'utf8'),
      ])
      const notAfter = new Date(new X509Certificate(cert).validTo)
      return notAfter.getTime() - now > 14 * 86_400_000 ? { key, cert, notAfter } : undefined
    } catch {
      return undefined
    }
  }

  /** Runs a full ACME order for `host` (which must resolve to this edge on port 80) and stores the result. */
  async issue(host: string): Promise<CertificatePair> {
    const mod = await import('acme-client')
    const acme = mod.default
    await mkdir(this.#dir, { recursive: true, mode: 0o700 })
    const accountKey = await this.#accountKey(acme)
    const client = new acme.Client({ directoryUrl: this.#options.directoryUrl, accountKey })
    const [key, csr] = await acme.crypto.createCsr({ commonName: host, altNames: [host] })
    const cert = await client.auto({
      csr,
      email: this.#options.email,
      termsOfServiceAgreed: true,
      challengePriority: ['http-01'],
      challengeCreateFn: async (_authz, challenge, keyAuthorization) => {
        if (challenge.type === 'http-01') this.#challenges.set(challenge.token, keyAuthorization)
      },
      challengeRemoveFn: async (_authz, challenge) => {
        if (challenge.type === 'http-01') this.#challenges.delete(challenge.token)
      },
    })
    await writeAtomic(join(this.#dir, `${host}.key`), key.toString(), 0o600)
    await writeAtomic(join(this.#dir, `${host}.crt`), cert, 0o644)
    return { key: key.toString(), cert, notAfter: new Date(new X509Certificate(cert).validTo) }
  }

  async #accountKey(acme: typeof import('acme-client')): Promise<Buffer> {
    const path = join(this.#dir, 'account.key')
    try {
      return await readFile(path)
    } catch {
      const key = await acme.crypto.createPrivateKey()
      await writeFile(path, key, { mode: 0o600, flag: 'wx' })
      return key
    }
  }
}

async function writeAtomic(path: string, data: string, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`
  await writeFile(tmp, data, { mode })
  await rename(tmp, path)
}
