import { spawn, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { sandboxName } from '../src/deploy/index.js'
import { sandboxArgv } from '../src/deploy/drivers/local/sandbox.js'
import type { TestPlatform } from './support/platform.js'

export interface ServiceView {
  id: string
  environmentId: string
  type: string
  name: string
  status: string
  reason: string | null
  process: { state: string; pid: number | null; restarts: number } | null
  usage: { dataBytes: number; memoryRssBytes: number | null }
}

const environments = new Set<string>()

/**
 * Removes the system users and network namespaces the deploy driver made for the environments these
 * tests created. Register it after startPlatform (t.after runs hooks in order): the platform is closed first.
 */
export function removeSandboxes(ids: Iterable<string> = environments): void {
  for (const id of [...ids]) {
    const name = sandboxName(id)
    spawnSync('ip', ['netns', 'delete', name], { stdio: 'ignore' })
    spawnSync('ip', ['netns', 'delete', `${name}-b`], { stdio: 'ignore' })
    spawnSync('userdel', ['--', name], { stdio: 'ignore' })
    spawnSync('groupdel', ['--', name], { stdio: 'ignore' })
    environments.delete(id)
  }
}

/** Creates an environment in a new project of the workspace. */
export async function createEnvironment(
  tp: TestPlatform,
  token: string,
  workspaceId: string,
  project: string,
  name = 'main',
  criticality?: string,
): Promise<string> {
  const p = await tp.call('POST', `/v1/workspaces/${workspaceId}/projects`, {
    token,
    body: { name: project },
  })
  const projectId = (p.json() as { id: string }).id
  const e = await tp.call('POST', `/v1/projects/${projectId}/environments`, {
    token,
    body: { name, ...(criticality ? { criticality } : {}) },
  })
  if (e.statusCode !== 201) throw new Error(`environment: ${e.body}`)
  const id = (e.json() as { id: string }).id
  environments.add(id)
  return id
}

/** Provisions a service through the API and waits until it runs (or fails: the reason is in the error). */
export async function provision(
  tp: TestPlatform,
  token: string,
  envId: string,
  body: Record<string, unknown>,
): Promise<ServiceView> {
  const res = await tp.call('POST', `/v1/environments/${envId}/services`, { token, body })
  if (res.statusCode !== 201) throw new Error(`create service: ${res.statusCode} ${res.body}`)
  const { id } = res.json() as { id: string }
  return waitForStatus(tp, token, id, 'running')
}

export async function waitForStatus(
  tp: TestPlatform,
  token: string,
  id: string,
  want: string,
): Promise<ServiceView> {
  const deadline = Date.now() + 240_000
  for (;;) {
    const s = (await tp.call('GET', `/v1/services/${id}`, { token })).json() as ServiceView
    if (s.status === want) return s
    if (s.status === 'failed' && want !== 'failed') throw new Error(`service ${s.type} failed: ${s.reason}`)
    if (Date.now() > deadline) throw new Error(`service ${id} still ${s.status}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

/** An environment's user, and where its sandbox's files are (clients run as its apps would: sandboxed). */
export interface EnvironmentUser {
  readonly uid: number
  readonly gid: number
  readonly name: string
  readonly dataDir: string
  readonly environmentId: string
}

/** The system user an environment's processes (and services) run as, from the driver's stored identities. */
export function environmentUser(tp: TestPlatform | string, envId: string): EnvironmentUser {
  const dataDir = typeof tp === 'string' ? tp : tp.platform.config.dataDir
  const ids = JSON.parse(readFileSync(path.join(dataDir, 'sandboxes', 'identities.json'), 'utf8')) as {
    envs: Record<string, { uid: number; name?: string }>
  }
  const uid = ids.envs[envId]?.uid
  if (uid === undefined) throw new Error(`environment ${envId} has no identity`)
  return { uid, gid: uid, name: sandboxName(envId), dataDir, environmentId: envId }
}

/**
 * argv that runs `argv` the way the environment's processes run: in its sandbox (its network namespace,
 * its uid/gid, the system read-only, its services directory at its host path, read-only as apps see it;
 * `writable`: as its database servers see it).
 */
export function inSandbox(
  user: EnvironmentUser,
  argv: readonly string[],
  opts: { readonly writable?: boolean; readonly cwd?: string } = {},
): string[] {
  const services = path.join(user.dataDir, 'envs', user.environmentId, 'services')
  return sandboxArgv({
    identity: { uid: user.uid, gid: user.gid, name: user.name },
    netns: user.name,
    mounts: [{ source: services, target: services, writable: opts.writable === true }],
    cwd: opts.cwd ?? '/',
    argv,
    dieWithParent: true,
    etcDir: path.join(user.dataDir, 'sandboxes', user.name),
  })
}

export interface ClientResult {
  code: number | null
  out: string
}

/** Runs a real client (argv, no shell) with exactly `env`, in `user`'s sandbox like an app process would. */
export function runClient(
  argv: readonly string[],
  env: Record<string, string>,
  user?: EnvironmentUser,
  input = '',
): Promise<ClientResult> {
  return new Promise((resolve) => {
    const full = user ? inSandbox(user, argv) : [...argv]
    const child = spawn(full[0] as string, full.slice(1), {
      env: { PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8', HOME: '/nonexistent', ...env },
      cwd: '/',
      stdio: ['pipe', 'pipe', 'pipe'],
      shell: false,
    })
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (t: string) => (out += t))
    child.stderr.setEncoding('utf8').on('data', (t: string) => (out += t))
    child.stdin.on('error', () => undefined)
    child.stdin.end(input)
    child.on('error', (e) => resolve({ code: null, out: out + e.message }))
    child.on('close', (code) => resolve({ code, out }))
  })
}

/** `mariadb` CLI with the MYSQL_* variables an app receives (password by MYSQL_PWD, never argv). */
export function mariadbSql(
  vars: Record<string, string>,
  sql: string,
  user?: EnvironmentUser,
): Promise<ClientResult> {
  return runClient(
    [
      'mariadb',
      '--no-defaults',
      `--socket=${vars['MYSQL_UNIX_PORT']}`,
      `--user=${vars['MYSQL_USER']}`,
      '--batch',
      '--skip-column-names',
      `--execute=${sql}`,
      vars['MYSQL_DATABASE'] ?? '',
    ],
    { MYSQL_PWD: vars['MYSQL_PASSWORD'] ?? '' },
    user,
  )
}

/** `psql` configured only by the PG* variables an app receives. */
export function psqlSql(
  vars: Record<string, string>,
  sql: string,
  user?: EnvironmentUser,
): Promise<ClientResult> {
  const pick = Object.fromEntries(Object.entries(vars).filter(([k]) => k.startsWith('PG')))
  return runClient(['psql', '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', sql], pick, user)
}

/** `redis-cli` over the socket as the given ACL user (password by REDISCLI_AUTH, never argv). */
export function redisCli(
  vars: Record<string, string>,
  args: readonly string[],
  user?: EnvironmentUser,
): Promise<ClientResult> {
  return runClient(
    [
      'redis-cli',
      '-s',
      vars['REDIS_SOCKET'] ?? '',
      '--user',
      vars['REDIS_USERNAME'] ?? '',
      '--no-auth-warning',
      ...args,
    ],
    { REDISCLI_AUTH: vars['REDIS_PASSWORD'] ?? '' },
    user,
  )
}
