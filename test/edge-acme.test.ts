import assert from 'node:assert/strict'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { connect } from 'node:tls'
import { eventually } from '../src/deploy/testing.js'
import { AcmeChallengeStore, AcmeIssuer, AcmeManager } from '../src/edge/acme.js'
import { createCrashRig, type CrashRig, type Json } from './crash/harness.js'
import { httpGet } from './deploy-helpers.js'
import { startDns, type DnsRecords } from './support/dns.js'
import { freePort } from './support/processes.js'

/**
 * ACME for custom domains against Debian's pebble (a real ACME CA): a real `palisade serve` with two edge
 * workers, pebble validating HTTP-01 by a real request to the edge's HTTP port (its DNS answers come from a
 * tiny UDP responder here), the certificate served by SNI from every worker, a failing order, a renewal.
 */

const PEBBLE = '/usr/bin/pebble'
const SKIP = existsSync(PEBBLE) ? false : 'pebble is not installed (apt-get install pebble; CI installs it)'
const WORKERS = 2

// ------------------------------------------------------------------ pebble

interface Pebble {
  readonly directoryUrl: string
  readonly caFile: string
  /** Pebble's root (issues every certificate through its intermediate). */
  root(): Promise<string>
  output(): string
}

/** A CA of this test signs pebble's HTTPS certificate (pebble's own `minica`, which Debian does not ship). */
function makeMinica(dir: string): { caFile: string; certFile: string; keyFile: string } {
  const run = (args: string[]): void => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`)
  }
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes']
  run([
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '2',
    '-subj',
    '/CN=test minica',
  ])
  run(['req', ...ec, '-keyout', 'pebble.key', '-out', 'pebble.csr', '-subj', '/CN=localhost'])
  writeFileSync(path.join(dir, 'ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n')
  run(
    ['x509', '-req', '-in', 'pebble.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial'].concat([
      '-out',
      'pebble.crt',
      '-days',
      '2',
      '-extfile',
      'ext',
    ]),
  )
  return {
    caFile: path.join(dir, 'ca.crt'),
    certFile: path.join(dir, 'pebble.crt'),
    keyFile: path.join(dir, 'pebble.key'),
  }
}

async function startPebble(
  t: { after(fn: () => unknown): void },
  dir: string,
  httpPort: number,
  dnsPort: number,
  validityDays: number,
): Promise<Pebble> {
  const minica = makeMinica(dir)
  const [acmePort, managementPort] = [await freePort(), await freePort()]
  const config = path.join(dir, 'pebble.json')
  writeFileSync(
    config,
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${acmePort}`,
        managementListenAddress: `127.0.0.1:${managementPort}`,
        certificate: minica.certFile,
        privateKey: minica.keyFile,
        httpPort, // HTTP-01 validation requests go to the edge's HTTP port
        tlsPort: await freePort(),
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
        certificateValidityPeriod: validityDays * 86_400,
      },
    }),
  )
  const child: ChildProcess = spawn(PEBBLE, ['-config', config, '-dnsserver', `127.0.0.1:${dnsPort}`], {
    env: {
      PATH: process.env['PATH'] ?? '',
      PEBBLE_VA_NOSLEEP: '1', // no random sleeps before validating (the validation itself is real)
      PEBBLE_WFE_NONCEREJECT: '0',
      PEBBLE_AUTHZREUSE: '0', // every order, renewals too, is validated through the edge again
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()))
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGTERM')
  })
  const ca = readFileSync(minica.caFile, 'utf8')
  const get = (url: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const u = new URL(url)
      const socket = connect({ host: u.hostname, port: Number(u.port), ca, servername: 'localhost' }, () => {
        socket.write(`GET ${u.pathname} HTTP/1.0\r\nHost: localhost\r\n\r\n`)
      })
      let body = ''
      socket.setEncoding('utf8')
      socket.on('data', (d: string) => (body += d))
      socket.on('end', () => resolve(body.slice(body.indexOf('\r\n\r\n') + 4)))
      socket.on('error', reject)
    })
  const directoryUrl = `https://127.0.0.1:${acmePort}/dir`
  await eventually(
    async () => ((await get(directoryUrl).catch(() => '')).includes('newOrder') ? true : undefined),
    20_000,
    `pebble listening: ${out}`,
  )
  return {
    directoryUrl,
    caFile: minica.caFile,
    root: () => get(`https://127.0.0.1:${managementPort}/roots/0`),
    output: () => out,
  }
}

// ------------------------------------------------------------------ TLS to the edge

interface Served {
  readonly authorized: boolean
  readonly error: string | null
  readonly cert: X509Certificate
  readonly issuer: string
}

/** The certificate the edge serves for `servername`, verified against `ca` (with the host name check). */
function served(port: number, servername: string, ca: string): Promise<Served> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername, ca, rejectUnauthorized: false }, () => {
      const peer = socket.getPeerX509Certificate()
      socket.end()
      if (!peer) return reject(new Error('no certificate'))
      resolve({
        authorized: socket.authorized,
        error: socket.authorizationError ? String(socket.authorizationError) : null,
        cert: peer,
        issuer: peer.issuer,
      })
    })
    socket.on('error', reject)
  })
}

interface Certificate {
  source: string
  status: string
  issuer: string | null
  notAfter: string | null
  lastError: string | null
}

async function certificateOf(rig: CrashRig, envId: string, name: string): Promise<Certificate | undefined> {
  const list = await rig.api('GET', `/v1/environments/${envId}/domains`)
  const items = (list.json['items'] ?? []) as { name: string; certificate: Certificate }[]
  return items.find((d) => d.name === name)?.certificate
}

/** Claims `name` for the environment and verifies it by its DNS TXT record (the responder publishes it). */
async function addVerifiedDomain(rig: CrashRig, dns: DnsRecords, envId: string, name: string): Promise<void> {
  const added = await rig.api('POST', `/v1/environments/${envId}/domains`, { name })
  assert.equal(added.status, 201, JSON.stringify(added.json))
  const proof = (added.json['verification'] as { dns: { name: string; value: string } }).dns
  dns.txt.set(proof.name, proof.value)
  const verified = await rig.api(
    'POST',
    `/v1/environments/${envId}/domains/${encodeURIComponent(name)}/verify`,
  )
  assert.equal(verified.status, 200, JSON.stringify(verified.json))
  assert.equal(verified.json['status'], 'verified')
}

// ------------------------------------------------------------------ the tests

test(
  'custom domains get certificates from a real ACME CA (pebble) through every edge worker',
  { skip: SKIP },
  async (t) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'palisade-acme-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    const dns: DnsRecords = { a: new Map(), txt: new Map() }
    const responder = await startDns(dns)
    t.after(() => responder.close())
    // Pebble needs the edge's HTTP port, the rig its directory: the rig picks its ports first, starts later.
    const env: Record<string, string> = {}
    const rig = await createCrashRig(t, { edgeWorkers: WORKERS, env })
    // 20-day certificates: inside the 30-day renewal window from the start (the renewal step below).
    const pebble = await startPebble(t, dir, rig.edgePort, responder.port, 20)
    Object.assign(env, {
      PALISADE_ACME_DIRECTORY_URL: pebble.directoryUrl,
      PALISADE_ACME_EMAIL: 'ops@example.com',
      PALISADE_ACME_CA_FILE: pebble.caFile,
      PALISADE_METRICS_TOKEN: 'm'.repeat(32),
      PALISADE_TEST_HOOKS: '1',
      PALISADE_TEST_DNS_SERVER: `127.0.0.1:${responder.port}`,
      PALISADE_TEST_ACME_RETRY_MS: '2000',
    })
    let server = await rig.start()
    const { envId } = await rig.bootstrap()
    await eventually(
      async () => {
        const h = (await rig.api('GET', '/v1/health')).json
        return (h['edge'] as { ready?: number } | undefined)?.ready === WORKERS ? true : undefined
      },
      180_000,
      'every edge worker serving',
    )
    const root = await pebble.root()
    const pebbleRoot = new X509Certificate(root)
    const workspaceId = (await rig.api('GET', `/v1/environments/${envId}`)).json['workspaceId'] as string

    const good = 'shop.example.com'
    await t.test('a verified domain is ordered, validated through the edge and served by SNI', async () => {
      dns.a.set(good, '127.0.0.1')
      await addVerifiedDomain(rig, dns, envId, good)
      const cert = await eventually(
        async () => {
          const c = await certificateOf(rig, envId, good)
          return c?.status === 'valid' ? c : undefined
        },
        120_000,
        `the ACME certificate of ${good}: ${server.output().slice(-2000)}`,
      )
      assert.equal(cert.source, 'acme')
      assert.match(cert.issuer ?? '', /^Pebble Intermediate CA/)
      assert.equal(cert.lastError, null)
      assert.ok(Date.parse(cert.notAfter ?? '') > Date.now() + 19 * 86_400_000)
      // Several connections: the kernel spreads them over both workers; each serves the new certificate.
      for (let i = 0; i < 6; i++) {
        const s = await served(rig.httpsPort, good, root)
        assert.equal(s.error, null)
        assert.ok(s.authorized, 'chains to pebble’s root and names the domain')
        assert.ok(s.cert.checkHost(good))
        assert.match(s.issuer, /Pebble Intermediate CA/)
        assert.equal(Date.parse(s.cert.validTo), Date.parse(cert.notAfter ?? ''))
      }
      assert.equal(pebbleRoot.subject.includes('Pebble Root CA'), true)
      // Stored root-only under <data>/edge/acme/.
      const file = path.join(rig.dataDir, 'edge', 'acme', `${good}.key`)
      assert.equal(statSync(file).mode & 0o077, 0)
      assert.equal(statSync(path.dirname(file)).mode & 0o077, 0)
      // Audited (actor: platform).
      const events = await rig.api(
        'GET',
        `/v1/workspaces/${workspaceId}/audit-events?action=environment.domain.certificate.issue`,
      )
      const issued = (events.json['items'] as Json[]).filter((e) => (e['target'] as Json)['id'] === good)
      assert.ok(issued.some((e) => e['outcome'] === 'success' && (e['actor'] as Json)['type'] === 'platform'))
      // The CLI shows it.
      const cli = await rig.cli(['domains', 'list', 'shop/main'])
      assert.equal(cli.code, 0, cli.stderr)
      assert.match(cli.stdout, /acme valid/)
      // The expiry metric carries it (source acme).
      const metrics = await fetch(`${rig.apiUrl}/metrics`, {
        headers: { authorization: `Bearer ${'m'.repeat(32)}` },
      })
      const text = await metrics.text()
      assert.match(
        text,
        new RegExp(
          `palisade_certificate_expiry_timestamp_seconds\\{[^}]*host="${good}"[^}]*source="acme"|source="acme"[^}]*host="${good}"`,
        ),
      )
    })

    await t.test('challenge paths: bad characters are refused at the edge (404)', async () => {
      for (const p of ['bad$token', 'a%2Fb', '..%2f..%2fetc', 'x'.repeat(300)]) {
        const r = await httpGet(rig.edgePort, good, `/.well-known/acme-challenge/${p}`)
        assert.equal(r.status, 404, p)
      }
    })

    const elsewhere = 'elsewhere.example.com'
    await t.test(
      'a failing order is recorded with its reason, the local CA serves meanwhile, and it is retried',
      async () => {
        dns.a.set(elsewhere, '127.0.0.2') // nothing listens there: pebble's HTTP-01 request fails
        await addVerifiedDomain(rig, dns, envId, elsewhere)
        const failed = await eventually(
          async () => {
            const c = await certificateOf(rig, envId, elsewhere)
            return c?.status === 'failed' ? c : undefined
          },
          120_000,
          `a failed order for ${elsewhere}`,
        )
        assert.equal(failed.source, 'acme')
        assert.ok(failed.lastError && failed.lastError.length > 0)
        t.diagnostic(`failed order: ${failed.lastError}`)
        // Still served, with the local CA's certificate.
        const s = await served(rig.httpsPort, elsewhere, root)
        assert.equal(s.authorized, false)
        assert.match(s.issuer, /Palisade local CA/)
        const events = await rig.api(
          'GET',
          `/v1/workspaces/${workspaceId}/audit-events?action=environment.domain.certificate.issue`,
        )
        assert.ok(
          (events.json['items'] as Json[]).some(
            (e) => (e['target'] as Json)['id'] === elsewhere && e['outcome'] === 'failure',
          ),
        )
        // The good domain is untouched, the platform still answers.
        assert.equal((await certificateOf(rig, envId, good))?.status, 'valid')
        // Pointed at the edge now: the retry (backoff) succeeds without anyone asking.
        dns.a.set(elsewhere, '127.0.0.1')
        const fixed = await eventually(
          async () => {
            const c = await certificateOf(rig, envId, elsewhere)
            return c?.status === 'valid' ? c : undefined
          },
          120_000,
          `the retried order for ${elsewhere}`,
        )
        assert.equal(fixed.source, 'acme')
        assert.equal(fixed.lastError, null)
        assert.ok((await served(rig.httpsPort, elsewhere, root)).authorized)
      },
    )

    await t.test('a certificate within 30 days of expiry is renewed in the renewal round', async () => {
      const before = await served(rig.httpsPort, good, root)
      // The monitor's first round after a start renews (hourly after): a restart brings it forward.
      await server.stop()
      server = await rig.start()
      const after = await eventually(
        async () => {
          const s = await served(rig.httpsPort, good, root).catch(() => undefined)
          return s && s.authorized && s.cert.serialNumber !== before.cert.serialNumber ? s : undefined
        },
        300_000,
        `a renewed certificate for ${good}: ${server.output().slice(-2000)}`,
      )
      assert.ok(after.cert.checkHost(good))
      t.diagnostic(`serve restart took ${rig.startMs.at(-1) ?? -1} ms until /v1/health answered`)
      const events = await rig.api(
        'GET',
        `/v1/workspaces/${workspaceId}/audit-events?action=environment.domain.certificate.renew`,
      )
      assert.ok(
        (events.json['items'] as Json[]).some(
          (e) => (e['target'] as Json)['id'] === good && e['outcome'] === 'success',
        ),
      )
    })
  },
)

test('an unreachable ACME directory fails the order with its reason (no crash, retried later)', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'palisade-acme-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const closed = await freePort()
  const issuer = new AcmeIssuer(
    { directoryUrl: `https://127.0.0.1:${closed}/dir` },
    dir,
    new AcmeChallengeStore(),
  )
  let now = Date.now()
  const outcomes: string[] = []
  const manager = new AcmeManager({
    issuer,
    dataDir: dir,
    hosts: () => ['shop.example.com'],
    onOutcome: async (o) => {
      outcomes.push(o.kind)
    },
    now: () => now,
    retryMs: 60_000,
  })
  t.after(() => manager.close())
  assert.equal((await manager.status('shop.example.com', false)).status, 'none')
  await manager.sync()
  await manager.idle()
  const failed = await manager.status('shop.example.com', true)
  assert.equal(failed.status, 'failed')
  assert.equal(failed.source, 'acme')
  assert.match(failed.lastError ?? '', /ECONNREFUSED/)
  assert.deepEqual(outcomes, ['failed'])
  // Not retried before its backoff, retried after it.
  await manager.sync()
  await manager.idle()
  assert.deepEqual(outcomes, ['failed'])
  now += 61_000
  await manager.sync()
  await manager.idle()
  assert.deepEqual(outcomes, ['failed', 'failed'])
  // A host name that is not one never reaches the file system.
  assert.equal(await issuer.stored('../../etc/passwd'), undefined)
  await assert.rejects(issuer.issue('../x'), /not a host name/)
  // Recorded root-only, and remembered by a new manager (a restarted control plane).
  assert.equal(statSync(path.join(dir, 'edge', 'acme', 'state.json')).mode & 0o077, 0)
  const again = new AcmeManager({
    issuer,
    dataDir: dir,
    hosts: () => ['shop.example.com'],
    onOutcome: async () => {},
  })
  await again.start(60_000)
  again.close()
  const remembered = await again.status('shop.example.com', true)
  assert.equal(remembered.status, 'failed')
  assert.match(remembered.lastError ?? '', /ECONNREFUSED/)
})
