/**
 * Time from `POST /v1/environments/:id/deployments` to the first request answered by the new release
 * through the edge, for examples/node-hello (no dependencies), and from `POST …/rollback` to the first
 * request answered by the previous release. Runs N deploys of changing commits, each after the first
 * followed by a rollback, and prints each figure and the medians. Usage:
 * node --import tsx bench/deploy/run.ts [N]   (BENCH_ISOLATE=1 as root: sandboxes, as `palisade serve` runs)
 */
import { chmodSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { loadConfig } from '../../src/config/index.js'
import { removeSandbox, sandboxName } from '../../src/deploy/index.js'
import { createRepo } from '../../src/deploy/testing.js'
import { startEdge } from '../../src/edge/testing.js'
import { createPlatform } from '../../src/main.js'

const runs = Number(process.argv[2] ?? 5)
const root = mkdtempSync(path.join(tmpdir(), 'pal-bench-deploy-'))
const isolate = process.env['BENCH_ISOLATE'] === '1'
// Environment users must pass through the temp dir to reach their releases.
if (isolate) chmodSync(root, 0o711)
const work = path.join(root, 'work')
cpSync(path.resolve('examples/node-hello'), work, { recursive: true })
const repo = createRepo(work)
repo.commit({}, 'initial')

const config = loadConfig(
  {},
  { dataDir: path.join(root, 'data'), masterKey: 'b'.repeat(64), logLevel: 'silent', gitLocalRoots: root },
)
let setupToken = ''
const platform = await createPlatform(config, {
  announce: (l) => (setupToken = l.split(': ').pop() ?? ''),
  deploy: { isolate, options: { throttle: { requestsPerSecond: 0, burst: 0 } } },
})
const edge = await startEdge()
await platform.deploy.attachRoutes(edge.edge.routes)
const call = async (
  method: 'GET' | 'POST' | 'PUT',
  url: string,
  body?: unknown,
  token?: string,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- bench script reads loosely shaped JSON
): Promise<any> => {
  const res = await platform.app.inject({
    method,
    url,
    headers: token ? { authorization: `Bearer ${token}` } : {},
    ...(body === undefined ? {} : { payload: body as string }),
  })
  return res.json()
}
const setup = await call('POST', '/v1/setup', {
  token: setupToken,
  email: 'b@example.com',
  password: 'correct horse battery staple 42',
  workspace: 'acme',
})
const { token } = await call('POST', '/v1/sessions', {
  email: 'b@example.com',
  password: 'correct horse battery staple 42',
})
const project = await call(
  'POST',
  `/v1/workspaces/${setup.workspace.id}/projects`,
  { name: 'hello', repository: work },
  token,
)
const env = await call('POST', `/v1/projects/${project.id}/environments`, { name: 'main' }, token)

function get(): Promise<string> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port: edge.httpPort, path: '/', headers: { host: env.host }, agent: false },
      (res) => {
        let body = ''
        res.on('data', (c: Buffer) => (body += c.toString()))
        res.on('end', () => resolve(res.statusCode === 200 ? body : ''))
      },
    )
    req.on('error', () => resolve(''))
    req.end()
  })
}

/** Waits until the edge serves `want`, failing if the deployment fails; returns the ms since `started`. */
async function until(want: string, deploymentId: string, started: number): Promise<number> {
  for (;;) {
    if ((await get()) === want) return performance.now() - started
    const cur = await call('GET', `/v1/deployments/${deploymentId}`, undefined, token)
    if (cur.status === 'failed') throw new Error(`deployment failed: ${cur.reason}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

const figures: number[] = []
const rollbacks: number[] = []
for (let i = 1; i <= runs; i++) {
  const server = readFileSync(path.join(work, 'server.js'), 'utf8').replace(
    /const greeting = .*/,
    `const greeting = process.env.GREETING || 'release ${i}'`,
  )
  writeFileSync(path.join(work, 'server.js'), server)
  repo.commit({}, `release ${i}`)
  const started = performance.now()
  const d = await call('POST', `/v1/environments/${env.id}/deployments`, {}, token)
  const ms = await until(`release ${i}\n`, d.id, started)
  figures.push(ms)
  console.log(`deploy ${i}: ${ms.toFixed(0)} ms to the first request served by the new release`)
  if (i === 1) continue
  // Back to the previous release, then forward again with the next deploy.
  const rStarted = performance.now()
  const r = await call('POST', `/v1/environments/${env.id}/rollback`, {}, token)
  const rms = await until(`release ${i - 1}\n`, r.id, rStarted)
  rollbacks.push(rms)
  console.log(`rollback ${i - 1}: ${rms.toFixed(0)} ms to the first request served by the previous release`)
}
const summary = (xs: number[]): string => {
  const s = [...xs].sort((a, b) => a - b)
  return `median ${s[Math.floor(s.length / 2)]?.toFixed(0)} ms, min ${s[0]?.toFixed(0)} ms, max ${s.at(-1)?.toFixed(0)} ms`
}
const load = (await import('node:os')).loadavg()[0]?.toFixed(1)
console.log(
  `deploys: ${summary(figures)} over ${runs} (isolation: ${isolate ? 'namespaces' : 'none'}, load average ${load})`,
)
console.log(`rollbacks: ${summary(rollbacks)} over ${rollbacks.length}`)
await platform.close()
await edge.stop()
if (isolate) await removeSandbox(sandboxName(env.id))
rmSync(root, { recursive: true, force: true })
