import type { InjectOptions, LightMyRequestResponse } from 'fastify'
import { loadConfig } from '../../src/config/index.js'
import { createPlatform, type Platform, type PlatformOptions } from '../../src/main.js'
import { createTestStore, type TestStore, STORE_KINDS } from './stores.js'

export { STORE_KINDS }

export const OWNER = { email: 'owner@example.com', password: 'correct horse battery staple 42' }

export interface TestPlatform {
  readonly platform: Platform
  readonly store: TestStore
  readonly setupToken: string
  /** app.inject with JSON defaults. */
  call(
    method: InjectOptions['method'],
    url: string,
    opts?: { token?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<LightMyRequestResponse>
}

/** Configuration settings by name (`loadConfig`'s), as strings. */
type Settings = Partial<Record<string, string>>

/**
 * A platform on a fresh store of `kind`, closed and dropped when the test ends. `settings` may be worked out
 * from the store (paths inside its temporary directory).
 */
export async function startPlatform(
  t: { after(fn: () => Promise<void>): void },
  kind: (typeof STORE_KINDS)[number],
  settings: Settings | ((store: TestStore) => Settings) = {},
  options: Omit<PlatformOptions, 'announce'> = {},
): Promise<TestPlatform> {
  const store = await createTestStore(kind)
  const config = loadConfig(
    {},
    {
      dataDir: store.dataDir,
      databaseUrl: store.databaseUrl,
      masterKey: 'a'.repeat(64),
      logLevel: 'silent',
      ...(typeof settings === 'function' ? settings(store) : settings),
    },
  )
  let setupToken = ''
  const platform = await createPlatform(config, {
    ...options,
    announce: (line) => (setupToken = line.split(': ').pop() ?? ''),
  })
  t.after(async () => {
    await platform.close()
    await store.drop()
  })
  return {
    platform,
    store,
    setupToken,
    call(method, url, opts = {}) {
      const headers: Record<string, string> = { ...opts.headers }
      if (opts.token) headers['authorization'] = `Bearer ${opts.token}`
      const options: InjectOptions = { method: method ?? 'GET', url, headers }
      if (opts.body !== undefined) options.payload = opts.body as string
      return platform.app.inject(options)
    },
  }
}

/** Runs setup and signs the owner in; returns the owner's session token and workspace. */
export async function setUpOwner(
  tp: TestPlatform,
  workspace = 'acme',
): Promise<{ token: string; workspaceId: string }> {
  const setup = await tp.call('POST', '/v1/setup', { body: { token: tp.setupToken, ...OWNER, workspace } })
  if (setup.statusCode !== 201) throw new Error(`setup failed: ${setup.body}`)
  const token = await signIn(tp, OWNER.email, OWNER.password)
  return { token, workspaceId: (setup.json() as { workspace: { id: string } }).workspace.id }
}

export async function signIn(tp: TestPlatform, email: string, password: string): Promise<string> {
  const res = await tp.call('POST', '/v1/sessions', { body: { email, password } })
  if (res.statusCode !== 201) throw new Error(`sign-in failed: ${res.body}`)
  return (res.json() as { token: string }).token
}

/** A project `shop` in the workspace and one environment in it with `body`; answers the environment's id. */
export async function createShopEnvironment(
  tp: TestPlatform,
  token: string,
  workspaceId: string,
  body: Record<string, unknown>,
): Promise<string> {
  const project = await tp.call('POST', `/v1/workspaces/${workspaceId}/projects`, {
    token,
    body: { name: 'shop' },
  })
  if (project.statusCode !== 201) throw new Error(`project: ${project.statusCode} ${project.body}`)
  const env = await tp.call('POST', `/v1/projects/${(project.json() as { id: string }).id}/environments`, {
    token,
    body,
  })
  if (env.statusCode !== 201) throw new Error(`environment: ${env.statusCode} ${env.body}`)
  return (env.json() as { id: string }).id
}
