/** Shared set-up of the deploy tests: a platform with an edge, a workspace, a project on a local repo, an environment. */
import { execFile } from 'node:child_process'
import { chmodSync, mkdirSync } from 'node:fs'
import { request } from 'node:http'
import path from 'node:path'
import { after } from 'node:test'
import type { InjectOptions, LightMyRequestResponse } from 'fastify'
import type { DeployOptions, Deployment, DomainOptions } from '../src/deploy/index.js'
import { createRepo, eventually, type TestRepo } from '../src/deploy/testing.js'
import { startEdge } from '../src/edge/testing.js'
import type { Platform } from '../src/main.js'
import type { Clock } from '../src/shared/clock.js'
import { setUpOwner, startPlatform } from './support/platform.js'
import type { STORE_KINDS } from './support/stores.js'

export const FAST: Partial<DeployOptions> = {
  drainMs: 300,
  stopGraceMs: 3_000,
  healthTimeoutMs: 8_000,
  throttle: { requestsPerSecond: 0, burst: 0 },
}

export interface DeployFixture {
  readonly platform: Platform
  readonly token: string
  readonly workspaceId: string
  readonly projectId: string
  readonly envId: string
  readonly host: string
  readonly repo: TestRepo
  readonly edgePort: number
  readonly root: string
  call(
    method: InjectOptions['method'],
    url: string,
    body?: unknown,
    token?: string,
  ): Promise<LightMyRequestResponse>
  /** Creates a deployment through the API and waits until it is finished. */
  deploy(ref?: string): Promise<Deployment>
  waitFor(id: string): Promise<Deployment>
  /** GET through the edge with the environment's host. */
  get(pathName?: string, headers?: Record<string, string>): Promise<{ status: number; body: string }>
}

export interface DeployOptionsForTest {
  kind?: (typeof STORE_KINDS)[number]
  isolate?: boolean
  deploy?: Partial<DeployOptions>
  /** Pin node@… releases to exact installed versions (default off: tests not about runtimes use the host's node). */
  runtimePinning?: boolean
  /** Fixed "now" for the platform (the runtime scheduler tests); default the system clock. */
  clock?: Clock
  /** Custom domain proofs (an injected resolver); default the system's. */
  domains?: DomainOptions
  /** More configuration settings by name (`loadConfig`'s), worked out from the store's temporary directory. */
  settings?: (storeDir: string) => Record<string, string>
}

export interface AppOptions {
  runtime?: string
  healthCheckPath?: string
  persistentDirs?: string[]
}

export interface DeployPlatform {
  readonly platform: Platform
  readonly token: string
  readonly workspaceId: string
  readonly edgePort: number
  readonly root: string
  /** A new project on its own local repository, with one environment `main`. */
  addApp(options?: AppOptions): Promise<DeployFixture>
}

let appCounter = 0

/** One platform (SQLite unless told) with an edge, set up with an owner; `addApp` gives each test its own environment. */
export async function startDeployPlatform(
  t: { after(fn: () => Promise<void>): void },
  options: DeployOptionsForTest = {},
): Promise<DeployPlatform> {
  const tp = await startPlatform(
    t,
    options.kind ?? 'sqlite',
    (store) => ({
      dataDir: path.join(store.dataDir, 'data'),
      gitLocalRoots: path.join(store.dataDir, 'work'),
      runtimePinning: options.runtimePinning ? 'on' : 'off',
      ...options.settings?.(store.dataDir),
    }),
    {
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.domains ? { domains: options.domains } : {}),
      deploy: { isolate: options.isolate ?? false, options: { ...FAST, ...options.deploy } },
    },
  )
  const platform = tp.platform
  const root = path.join(tp.store.dataDir, 'work')
  mkdirSync(root, { recursive: true })
  // Environment users must be able to pass through the temp dir to reach their releases.
  if (options.isolate) chmodSync(tp.store.dataDir, 0o711)
  const edge = await startEdge()
  await platform.deploy.attachRoutes(edge.edge.routes)
  t.after(() => edge.stop())
  const call = (
    method: InjectOptions['method'],
    url: string,
    body?: unknown,
    token?: string,
  ): Promise<LightMyRequestResponse> =>
    tp.call(method, url, { ...(body !== undefined ? { body } : {}), ...(token ? { token } : {}) })
  const { token, workspaceId } = await setUpOwner(tp)

  const addApp = async (app: AppOptions = {}): Promise<DeployFixture> => {
    const name = `shop${++appCounter}`
    const repo = createRepo(path.join(root, name))
    const project = await call(
      'POST',
      `/v1/workspaces/${workspaceId}/projects`,
      { name, repository: repo.dir, defaultRuntime: app.runtime ?? 'node@20' },
      token,
    )
    if (project.statusCode !== 201) throw new Error(`project failed: ${project.body}`)
    const projectId = (project.json() as { id: string }).id
    const envBody: Record<string, unknown> = {
      name: 'main',
      healthCheckPath: app.healthCheckPath ?? '/health',
    }
    if (app.persistentDirs) envBody['persistentDirs'] = app.persistentDirs
    const env = await call('POST', `/v1/projects/${projectId}/environments`, envBody, token)
    if (env.statusCode !== 201) throw new Error(`environment failed: ${env.body}`)
    const { id: envId, host } = env.json() as { id: string; host: string }
    const waitFor = (id: string): Promise<Deployment> =>
      eventually(
        async () => {
          const d = (await call('GET', `/v1/deployments/${id}`, undefined, token)).json() as Deployment
          return d.status === 'succeeded' || d.status === 'failed' ? d : undefined
        },
        60_000,
        `deployment ${id}`,
      )
    return {
      platform,
      token,
      workspaceId,
      projectId,
      envId,
      host,
      repo,
      edgePort: edge.httpPort,
      root,
      call: (m, u, b, tk) => call(m, u, b, tk ?? token),
      waitFor,
      async deploy(ref) {
        const res = await call(
          'POST',
          `/v1/environments/${envId}/deployments`,
          ref === undefined ? {} : { ref },
          token,
        )
        if (res.statusCode !== 201) throw new Error(`deploy failed: ${res.statusCode} ${res.body}`)
        return waitFor((res.json() as Deployment).id)
      },
      get(pathName = '/', headers = {}) {
        return httpGet(edge.httpPort, host, pathName, headers)
      },
    }
  }
  return { platform, token, workspaceId, edgePort: edge.httpPort, root, addApp }
}

/** A platform with one app: for tests that need their own platform. */
export async function startDeploy(
  t: { after(fn: () => Promise<void>): void },
  options: DeployOptionsForTest & AppOptions = {},
): Promise<DeployFixture> {
  const p = await startDeployPlatform(t, options)
  return p.addApp(options)
}

export function httpGet(
  port: number,
  host: string,
  pathName = '/',
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, path: pathName, headers: { host, ...headers }, agent: false },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }))
        res.on('error', () => resolve({ status: -1, body: '' }))
      },
    )
    req.on('error', () => resolve({ status: -1, body: '' }))
    req.end()
  })
}

/**
 * Clean-up registry for a `describe` block: call it in the describe body (not in `before`), hand it to
 * startDeployPlatform; everything registered runs after the block's last test.
 */
export function suiteScope(): { after(fn: () => Promise<void>): void } {
  const fns: Array<() => Promise<void>> = []
  after(async () => {
    for (const fn of fns.reverse()) await fn()
  })
  return { after: (fn) => void fns.push(fn) }
}

/** git run asynchronously: the server answering it lives in this process. */
export function gitAsync(cwd: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      'git',
      args,
      {
        cwd,
        timeout: 60_000,
        env: {
          PATH: process.env['PATH'] ?? '',
          HOME: cwd,
          GIT_TERMINAL_PROMPT: '0',
          GIT_CONFIG_NOSYSTEM: '1',
          GIT_CONFIG_GLOBAL: '/dev/null',
        },
      },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, output: stdout + stderr }),
    )
  })
}
