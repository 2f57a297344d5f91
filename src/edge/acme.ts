import { X509Certificate } from 'node:crypto'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { Agent, get as httpsGet } from 'node:https'
import { join } from 'node:path'
import { edgePaths } from './edge-paths.js'
import type { CertificatePair } from './local-ca.js'
import type { EdgeAcmeOptions, EdgeLogger } from './types.js'

export const ACME_CHALLENGE_PREFIX = '/.well-known/acme-challenge/'
const TOKEN_RE = /^[A-Za-z0-9_-]{1,256}$/
const DAY_MS = 86_400_000
/** An ACME certificate is renewed when it has less than this left (Let's Encrypt's advice for 90-day certificates). */
export const ACME_RENEW_BEFORE_MS = 30 * DAY_MS
/** A host name safe as a file name under `<data>/edge/acme/` (lowercase labels, no `..`, no `/`). */
const HOST_FILE_RE =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/

export function isAcmeToken(token: string): boolean {
  return TOKEN_RE.test(token)
}

/** Where a key authorization is published while the CA validates (the edge's store, or every edge worker). */
export interface ChallengeResponder {
  set(token: string, keyAuthorization: string): void | Promise<void>
  delete(token: string): void | Promise<void>
}

/** Pending HTTP-01 answers: token → key authorization. The edge serves them on plain HTTP for any routed host. */
export class AcmeChallengeStore implements ChallengeResponder {
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

/** A certificate file's facts (issuer's common name or whole DN, expiry). */
export interface CertificateFacts {
  readonly issuer: string
  readonly notAfter: Date
}

export function certificateFacts(pem: string): CertificateFacts {
  const cert = new X509Certificate(pem)
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(cert.issuer)
  return { issuer: cn?.[1] ?? cert.issuer.replace(/\n/g, ', '), notAfter: new Date(cert.validTo) }
}

/**
 * Obtains certificates for custom domains from an ACME CA (HTTP-01) with acme-client. Off unless the edge is
 * configured with `acme: { directoryUrl, email }`. Issued certificates are kept root-only under
 * `<data>/edge/acme/<host>.{key,crt}` (the directory is 0700 and created by this process: no tenant writes there).
 */
export class AcmeIssuer {
  readonly #options: EdgeAcmeOptions
  readonly #dir: string
  readonly #challenges: ChallengeResponder

  constructor(options: EdgeAcmeOptions, dataDir: string, challenges: ChallengeResponder) {
    this.#options = Object.freeze({ ...options })
    this.#dir = edgePaths(dataDir).acmeDir
    this.#challenges = challenges
  }

  /** A stored certificate for `host` that has not expired at `now`, or undefined (the edge prefers it). */
  async stored(host: string, now = Date.now()): Promise<CertificatePair | undefined> {
    if (!HOST_FILE_RE.test(host)) return undefined
    try {
      const [key, cert] = await Promise.all([
        readFile(join(this.#dir, `${host}.key`), 'utf8'),
        readFile(join(this.#dir, `${host}.crt`), 'utf8'),
      ])
      const notAfter = new Date(new X509Certificate(cert).validTo)
      return notAfter.getTime() > now ? { key, cert, notAfter } : undefined
    } catch {
      return undefined
    }
  }

  /**
   * Runs a full ACME order for `host` (which must resolve to this edge on port 80) and stores the result.
   * The key authorization is published through the responder (every edge worker) before the CA is asked to
   * validate, and withdrawn after.
   */
  async issue(host: string): Promise<CertificatePair> {
    if (!HOST_FILE_RE.test(host)) throw new Error(`not a host name: ${host}`)
    const mod = await import('acme-client')
    const acme = mod.default
    const http = acme.axios.defaults as unknown as {
      httpsAgent?: Agent
      timeout?: number
      acmeSettings?: { retryMaxAttempts: number; retryDefaultDelay: number }
    }
    // acme-client's own HTTP client (not the process's): the test CA's roots, bounded waits and retries.
    const agent = new Agent(this.#options.caPem === undefined ? {} : { ca: this.#options.caPem })
    http.httpsAgent = agent
    // acme-client 5.4 loses a network error's reason after its retries (a TypeError on `response.config`):
    // the directory is fetched here first, so that an unreachable CA is recorded as such.
    await probeDirectory(this.#options.directoryUrl, agent)
    http.timeout = 30_000
    if (http.acmeSettings) {
      http.acmeSettings.retryMaxAttempts = 3
      http.acmeSettings.retryDefaultDelay = 1
    }
    await mkdir(this.#dir, { recursive: true, mode: 0o700 })
    const accountKey = await this.#accountKey(acme)
    const client = new acme.Client({ directoryUrl: this.#options.directoryUrl, accountKey })
    const [key, csr] = await acme.crypto.createCsr({ commonName: host, altNames: [host] })
    const cert = await client.auto({
      csr,
      ...(this.#options.email === undefined ? {} : { email: this.#options.email }),
      termsOfServiceAgreed: true,
      challengePriority: ['http-01'],
      // acme-client's self-check fetches http://<host>:80 through this host's resolver, which often does not
      // see the public answer (split DNS, a NAT'ed edge); the CA's own validation is the one that counts.
      skipChallengeVerification: true,
      challengeCreateFn: async (_authz, challenge, keyAuthorization) => {
        if (challenge.type === 'http-01') await this.#challenges.set(challenge.token, keyAuthorization)
      },
      challengeRemoveFn: async (_authz, challenge) => {
        if (challenge.type === 'http-01') await this.#challenges.delete(challenge.token)
      },
    })
    await writeAtomic(join(this.#dir, `${host}.key`), key.toString(), 0o600)
    await writeAtomic(join(this.#dir, `${host}.crt`), cert, 0o600)
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

export type CertificateSource = 'acme' | 'local_ca' | 'none'
export type CertificateState = 'valid' | 'pending' | 'failed' | 'none'

/** A custom domain's certificate as the API shows it. */
export interface CertificateStatus {
  /** Where the domain's certificate comes from: ACME when configured, else the local CA; none when not routed. */
  readonly source: CertificateSource
  /** valid: served; pending: not issued yet; failed: the last order failed (the local CA's is served meanwhile). */
  readonly status: CertificateState
  /** Issuer of the certificate served now (null when none yet). */
  readonly issuer: string | null
  readonly notAfter: string | null
  /** Why the last ACME order failed (kept while a valid certificate is still served). */
  readonly lastError: string | null
}

export const NO_CERTIFICATE: CertificateStatus = Object.freeze({
  source: 'none',
  status: 'none',
  issuer: null,
  notAfter: null,
  lastError: null,
})

/** The outcome of one order, reported to the platform (audit event, edge workers' caches). */
export type AcmeOutcome =
  | {
      readonly host: string
      readonly kind: 'issued' | 'renewed'
      readonly issuer: string
      readonly notAfter: Date
    }
  | { readonly host: string; readonly kind: 'failed'; readonly reason: string; readonly renewal: boolean }

export interface AcmeManagerDeps {
  readonly issuer: AcmeIssuer
  readonly dataDir: string
  /** Custom domains routed now (ACME certificates are ordered for these only). */
  readonly hosts: () => Iterable<string>
  readonly onOutcome: (outcome: AcmeOutcome) => Promise<void>
  readonly logger?: EdgeLogger | undefined
  readonly now?: () => number
  /** First retry delay after a failed order, doubling to `maxRetryMs` (defaults 1 minute, 6 hours). */
  readonly retryMs?: number
  readonly maxRetryMs?: number
}

interface HostState {
  failures: number
  lastError: string | null
  nextAttemptAt: number
}

/** Orders waiting at most (one per routed custom domain; the cap bounds a flood of new domains). */
const MAX_QUEUED = 1_000
const MAX_ERROR_CHARS = 500

/**
 * The control plane's ACME orders: one at a time (serialized, so per host too), for every routed custom domain
 * without a valid ACME certificate and for those within `ACME_RENEW_BEFORE_MS` of expiry; a failure is
 * recorded with its reason and retried with exponential backoff. Failure state lives in memory and in
 * `<data>/edge/acme/state.json` (root-only).
 */
export class AcmeManager {
  readonly #deps: AcmeManagerDeps
  readonly #now: () => number
  readonly #retryMs: number
  readonly #maxRetryMs: number
  readonly #state = new Map<string, HostState>()
  /** Expiry of the ACME certificate each host was last seen holding: a sync reads no file for these. */
  readonly #held = new Map<string, number>()
  readonly #queue: { host: string; renewal: boolean }[] = []
  readonly #queued = new Set<string>()
  #running: string | null = null
  #loop: Promise<void> | null = null
  #timer: NodeJS.Timeout | undefined
  #closed = false
  readonly #stateFile: string
  readonly #dir: string
  readonly #certsDir: string

  constructor(deps: AcmeManagerDeps) {
    this.#deps = deps
    this.#now = deps.now ?? Date.now
    this.#retryMs = deps.retryMs ?? 60_000
    this.#maxRetryMs = deps.maxRetryMs ?? 6 * 3_600_000
    const paths = edgePaths(deps.dataDir)
    this.#dir = paths.acmeDir
    this.#certsDir = paths.certsDir
    this.#stateFile = join(paths.acmeDir, 'state.json')
  }

  /** Loads the failures recorded before a restart and looks for work every `everyMs`. */
  async start(everyMs = 5_000): Promise<void> {
    try {
      const saved = JSON.parse(await readFile(this.#stateFile, 'utf8')) as Record<string, HostState>
      for (const [host, s] of Object.entries(saved))
        if (HOST_FILE_RE.test(host) && typeof s.failures === 'number')
          this.#state.set(host, {
            failures: s.failures,
            lastError: typeof s.lastError === 'string' ? s.lastError : null,
            nextAttemptAt: typeof s.nextAttemptAt === 'number' ? s.nextAttemptAt : 0,
          })
    } catch {
      // no state yet
    }
    this.#timer = setInterval(() => void this.sync(), Math.max(500, Math.min(everyMs, this.#retryMs)))
    this.#timer.unref()
    void this.sync()
  }

  close(): void {
    this.#closed = true
    if (this.#timer) clearInterval(this.#timer)
  }

  /** Queues an order for each routed custom domain without a usable ACME certificate whose retry is due. */
  async sync(): Promise<void> {
    if (this.#closed) return
    const now = this.#now()
    const routed = new Set<string>()
    for (const host of this.#deps.hosts()) {
      if (!HOST_FILE_RE.test(host)) continue
      routed.add(host)
      if (this.#queued.has(host) || this.#running === host) continue
      const state = this.#state.get(host)
      if (state && state.nextAttemptAt > now) continue
      if (!state && (this.#held.get(host) ?? 0) > now) continue
      const held = await this.#deps.issuer.stored(host, now)
      if (held) this.#held.set(host, held.notAfter.getTime())
      if (held && !state) continue // valid; renewals are the hourly round's
      if (held && state && held.notAfter.getTime() - now > ACME_RENEW_BEFORE_MS) continue
      this.#enqueue(host, held !== undefined)
    }
    // A domain no longer routed: its failures are forgotten (a new claim starts afresh).
    let forgot = false
    for (const host of this.#held.keys()) if (!routed.has(host)) this.#held.delete(host)
    for (const host of this.#state.keys())
      if (!routed.has(host)) {
        this.#state.delete(host)
        forgot = true
      }
    if (forgot) await this.#saveState()
  }

  /**
   * The renewal round (hourly, by the monitor): queues every routed custom domain whose ACME certificate has
   * less than `ACME_RENEW_BEFORE_MS` left at `now + aheadMs`; answers the hosts queued.
   */
  async renewDue(aheadMs = 0): Promise<string[]> {
    const due: string[] = []
    const at = this.#now() + Math.max(0, aheadMs)
    for (const host of this.#deps.hosts()) {
      if (!HOST_FILE_RE.test(host) || this.#queued.has(host) || this.#running === host) continue
      const held = await this.#deps.issuer.stored(host, this.#now())
      if (!held || held.notAfter.getTime() - at > ACME_RENEW_BEFORE_MS) continue
      if (this.#enqueue(host, true)) due.push(host)
    }
    return due
  }

  /** Resolves when no order is queued or running (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#loop) await this.#loop
  }

  /** The certificate of `host` as the API shows it (`routed`: the domain is verified and served). */
  async status(host: string, routed: boolean): Promise<CertificateStatus> {
    if (!routed || !HOST_FILE_RE.test(host)) return NO_CERTIFICATE
    const state = this.#state.get(host)
    const lastError = state?.lastError ?? null
    const now = this.#now()
    const acme = await readFacts(join(this.#dir, `${host}.crt`))
    if (acme && acme.notAfter.getTime() > now)
      return { source: 'acme', status: 'valid', ...serialize(acme), lastError }
    const local = await readFacts(join(this.#certsDir, `${host}.crt`))
    const failed = state !== undefined && state.failures > 0 && this.#running !== host
    return {
      source: 'acme',
      status: failed ? 'failed' : 'pending',
      ...(local ? serialize(local) : { issuer: null, notAfter: null }),
      lastError,
    }
  }

  #enqueue(host: string, renewal: boolean): boolean {
    if (this.#closed || this.#queued.has(host) || this.#queue.length >= MAX_QUEUED) return false
    this.#queued.add(host)
    this.#queue.push({ host, renewal })
    this.#loop ??= this.#drain().finally(() => (this.#loop = null))
    return true
  }

  async #drain(): Promise<void> {
    for (let next = this.#queue.shift(); next; next = this.#queue.shift()) {
      this.#queued.delete(next.host)
      if (this.#closed) continue
      this.#running = next.host
      try {
        await this.#order(next.host, next.renewal)
      } finally {
        this.#running = null
      }
    }
  }

  async #order(host: string, renewal: boolean): Promise<void> {
    const log = this.#deps.logger
    let outcome: AcmeOutcome
    try {
      log?.info({ host, renewal }, 'ACME order started')
      const pair = await this.#deps.issuer.issue(host)
      const facts = certificateFacts(pair.cert)
      this.#state.delete(host)
      this.#held.set(host, pair.notAfter.getTime())
      outcome = { host, kind: renewal ? 'renewed' : 'issued', ...facts }
      log?.info(
        { host, notAfter: facts.notAfter.toISOString(), issuer: facts.issuer },
        'ACME certificate issued',
      )
    } catch (err) {
      const reason = describe(err)
      const previous = this.#state.get(host)
      const failures = (previous?.failures ?? 0) + 1
      const delay = Math.min(this.#maxRetryMs, this.#retryMs * 2 ** Math.min(failures - 1, 20))
      this.#state.set(host, { failures, lastError: reason, nextAttemptAt: this.#now() + delay })
      outcome = { host, kind: 'failed', reason, renewal }
      log?.warn({ host, reason, failures, retryInMs: delay }, 'ACME order failed')
    }
    await this.#saveState()
    try {
      await this.#deps.onOutcome(outcome)
    } catch (err) {
      log?.error({ err, host }, 'recording an ACME outcome failed')
    }
  }

  async #saveState(): Promise<void> {
    try {
      await mkdir(this.#dir, { recursive: true, mode: 0o700 })
      await writeAtomic(this.#stateFile, JSON.stringify(Object.fromEntries(this.#state)), 0o600)
    } catch (err) {
      this.#deps.logger?.warn({ err }, 'the ACME state could not be saved')
    }
  }
}

function probeDirectory(url: string, agent: Agent): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (why: string): void => reject(new Error(`the ACME directory ${url} is unreachable: ${why}`))
    const req = httpsGet(url, { agent, timeout: 15_000 }, (res) => {
      res.resume()
      if (res.statusCode === 200) resolve()
      else fail(`HTTP ${res.statusCode ?? 0}`)
    })
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', (err: NodeJS.ErrnoException) =>
      fail(err.code ? `${err.code} (${err.message})` : err.message),
    )
  })
}

function serialize(facts: CertificateFacts): { issuer: string; notAfter: string } {
  return { issuer: facts.issuer, notAfter: facts.notAfter.toISOString() }
}

async function readFacts(file: string): Promise<CertificateFacts | undefined> {
  try {
    return certificateFacts(await readFile(file, 'utf8'))
  } catch {
    return undefined
  }
}

/** A failure's reason, one line, bounded (the CA's problem document when there is one). */
function describe(err: unknown): string {
  const e = err as { message?: unknown; detail?: unknown; code?: unknown; cause?: { message?: unknown } }
  let text =
    typeof e?.detail === 'string' ? e.detail : typeof e?.message === 'string' ? e.message : String(err)
  if (typeof e?.code === 'string' && !text.includes(e.code)) text = `${e.code}: ${text}`
  if (typeof e?.cause?.message === 'string' && !text.includes(e.cause.message))
    text += ` (${e.cause.message})`
  text = text.replace(/\s+/g, ' ').trim() || 'unknown error'
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS - 1)}…` : text
}

async function writeAtomic(path: string, data: string, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`
  await writeFile(tmp, data, { mode })
  await rename(tmp, path)
}

/** A routed domain's certificate when ACME is off: the local CA's leaf (pending until its first handshake). */
export async function localCaStatus(
  dataDir: string,
  host: string,
  routed: boolean,
): Promise<CertificateStatus> {
  if (!routed || !HOST_FILE_RE.test(host)) return NO_CERTIFICATE
  const local = await readFacts(join(edgePaths(dataDir).certsDir, `${host}.crt`))
  return local
    ? { source: 'local_ca', status: 'valid', ...serialize(local), lastError: null }
    : { source: 'local_ca', status: 'pending', issuer: null, notAfter: null, lastError: null }
}
