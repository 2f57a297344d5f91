/**
 * bench/auth: what authentication costs.
 * 1. Sign-in latency (argon2id 19 MiB, t=2): N sequential POST /v1/sessions, p50/p99.
 * 2. GET /v1/me under autocannon with an API token (SHA-256 lookup) and with an RFC 9421 signed
 *    request (token lookup + HMAC + digest + nonce claim), same run, same server.
 * Run: node --import tsx bench/auth/run.ts [--seconds 10] [--connections 20] [--logins 50]
 * The server is a real `palisade serve` process run from source (SQLite), autocannon runs in this one.
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import autocannon from 'autocannon'
import { signRequest } from '../../src/iam/index.js'
import { freePort, REPO } from '../../test/support/processes.js'

const args = process.argv.slice(2)
const arg = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? Number(args[i + 1]) : fallback
}
const SECONDS = arg('seconds', 10)
const CONNECTIONS = arg('connections', 20)
const LOGINS = arg('logins', 50)
const PASSWORD = 'correct horse battery staple 42'

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number
}

const dataDir = mkdtempSync(path.join(tmpdir(), 'palisade-bench-auth-'))
const port = await freePort()
const base = `http://127.0.0.1:${port}`
const child = spawn(
  process.execPath,
  ['--import', 'tsx', path.join(REPO, 'src/cli/main.ts'), 'serve', '--api-listen', `127.0.0.1:${port}`],
  {
    cwd: REPO,
    env: {
      PATH: process.env['PATH'] ?? '',
      PALISADE_DATA_DIR: dataDir,
      PALISADE_LOG_LEVEL: 'warn',
      PALISADE_PUBLIC_URL: base,
      PALISADE_EDGE_HTTP_LISTEN: '127.0.0.1:0',
      PALISADE_EDGE_HTTPS_LISTEN: '127.0.0.1:0',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  },
)
let out = ''
child.stdout.on('data', (d: Buffer) => (out += d.toString()))
for (let i = 0; i < 300; i++) {
  const up = await fetch(`${base}/v1/health`).then(
    (r) => r.ok,
    () => false,
  )
  if (up && /pst_[A-Za-z0-9_-]+/.test(out)) break
  await new Promise((r) => setTimeout(r, 100))
}

const post = async (p: string, body: unknown, token?: string): Promise<Record<string, string>> => {
  const res = await fetch(base + p, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  })
  if (!res.ok) throw new Error(`${p}: ${res.status} ${await res.text()}`)
  return (await res.json()) as Record<string, string>
}

try {
  await post('/v1/setup', {
    token: /pst_[A-Za-z0-9_-]+/.exec(out)?.[0],
    email: 'bench@example.com',
    password: PASSWORD,
    workspace: 'bench',
  })
  const times: number[] = []
  let session = ''
  for (let i = 0; i < LOGINS; i++) {
    const t0 = performance.now()
    session = (await post('/v1/sessions', { email: 'bench@example.com', password: PASSWORD })).token as string
    times.push(performance.now() - t0)
  }
  times.sort((a, b) => a - b)

  const plain = await post('/v1/me/tokens', { name: 'bench', scopes: ['read'] }, session)
  const signed = await post(
    '/v1/me/tokens',
    { name: 'bench-signed', scopes: ['read'], signed: true },
    session,
  )
  const key = Buffer.from(signed['signingKey'] as string, 'hex')
  const url = `${base}/v1/me`

  const tokenRun = (duration: number) =>
    autocannon({
      url,
      connections: CONNECTIONS,
      duration,
      headers: { authorization: `Bearer ${plain['token']}` },
    })
  const signedRun = (duration: number) =>
    autocannon({
      url,
      connections: CONNECTIONS,
      duration,
      // A fresh nonce and timestamp per request, as a real client sends.
      requests: [
        {
          method: 'GET',
          setupRequest: (req: autocannon.Request): autocannon.Request => ({
            ...req,
            headers: {
              ...req.headers,
              ...signRequest({
                method: 'GET',
                url,
                keyId: signed['id'] as string,
                key,
                created: Math.floor(Date.now() / 1000),
                nonce: randomBytes(12).toString('base64url'),
              }),
            },
          }),
        },
      ],
    })
  // Warm-up of both paths (JIT, tsx compilation, SQLite page cache), then the measured runs.
  await tokenRun(3)
  await signedRun(3)
  const withToken = await tokenRun(SECONDS)
  const withSignature = await signedRun(SECONDS)
  const row = (name: string, r: autocannon.Result) =>
    `| ${name} | ${Math.round(r.requests.average)} | ${r.latency.p50} | ${r.latency.p99} | ${r.non2xx} | ${r.errors} |`
  console.log(
    `\nSign-in (argon2id m=19456 KiB, t=2, p=1), ${LOGINS} sequential requests: p50 ${percentile(times, 50).toFixed(1)} ms, p99 ${percentile(times, 99).toFixed(1)} ms\n`,
  )
  console.log(`GET /v1/me, ${CONNECTIONS} connections, ${SECONDS} s each, same server:\n`)
  console.log('| auth | req/s | p50 ms | p99 ms | non-2xx | errors |\n|---|---|---|---|---|---|')
  console.log(row('API token (Bearer pal_…)', withToken))
  console.log(row('signed request (RFC 9421 hmac-sha256)', withSignature))
} finally {
  child.kill('SIGTERM')
  await new Promise((r) => child.once('exit', r))
  rmSync(dataDir, { recursive: true, force: true })
}
