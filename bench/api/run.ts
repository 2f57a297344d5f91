/**
 * bench/api: authenticated GET /v1/projects/:id under autocannon, on SQLite and PostgreSQL, same run.
 * Run: node --import tsx bench/api/run.ts [--seconds 10] [--connections 50]
 * The server runs as a real `palisade serve` process (compiled dist/), autocannon in this one.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import autocannon from 'autocannon'
import { createTestStore } from '../../test/support/stores.js'
import { freePort } from '../../test/support/processes.js'
import { spawnServe } from '../support/serve.js'

const args = process.argv.slice(2)
const arg = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? Number(args[i + 1]) : fallback
}
const SECONDS = arg('seconds', 10)
const CONNECTIONS = arg('connections', 50)
const PASSWORD = 'correct horse battery staple 42'

async function runOne(
  kind: 'sqlite' | 'postgres',
): Promise<{ kind: string; rps: number; p50: number; p99: number; errors: number; non2xx: number }> {
  const store = await createTestStore(kind)
  const dataDir = mkdtempSync(path.join(tmpdir(), 'palisade-bench-'))
  const port = await freePort()
  const child = spawnServe(
    port,
    {
      PALISADE_DATA_DIR: dataDir,
      PALISADE_DATABASE_URL: store.databaseUrl.startsWith('sqlite:')
        ? `sqlite:${dataDir}/palisade.db`
        : store.databaseUrl,
    },
    ['ignore', 'pipe', 'inherit'],
  )
  let out = ''
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()))
  const base = `http://127.0.0.1:${port}`
  for (let i = 0; i < 300; i++) {
    const up = await fetch(`${base}/v1/health`).then(
      (r) => r.ok,
      () => false,
    )
    if (up && /pst_[A-Za-z0-9_-]+/.test(out)) break
    await new Promise((r) => setTimeout(r, 100))
  }
  const setupToken = /pst_[A-Za-z0-9_-]+/.exec(out)?.[0]
  const post = async (p: string, body: unknown, token?: string): Promise<Record<string, string>> => {
    const res = await fetch(base + p, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    })
    if (!res.ok) throw new Error(`${p}: ${res.status} ${await res.text()}`)
    return (await res.json()) as Record<string, string>
  }
  await post('/v1/setup', {
    token: setupToken,
    email: 'bench@example.com',
    password: PASSWORD,
    workspace: 'bench',
  })
  const { token } = await post('/v1/sessions', { email: 'bench@example.com', password: PASSWORD })
  const project = await post('/v1/workspaces/bench/projects', { name: 'shop' }, token)
  const result = await autocannon({
    url: `${base}/v1/projects/${project['id']}`,
    connections: CONNECTIONS,
    duration: SECONDS,
    headers: { authorization: `Bearer ${token}` },
  })
  child.kill('SIGTERM')
  await new Promise((r) => child.once('exit', r))
  await store.drop()
  rmSync(dataDir, { recursive: true, force: true })
  return {
    kind,
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors,
    non2xx: result.non2xx,
  }
}

const rows = [await runOne('sqlite'), await runOne('postgres')]
console.log(
  `\nGET /v1/projects/:id, ${CONNECTIONS} connections, ${SECONDS} s, authenticated (session token)\n`,
)
console.log('| store | rps | p50 (ms) | p99 (ms) | errors | non-2xx |')
console.log('|---|---:|---:|---:|---:|---:|')
for (const r of rows)
  console.log(`| ${r.kind} | ${r.rps} | ${r.p50} | ${r.p99} | ${r.errors} | ${r.non2xx} |`)
