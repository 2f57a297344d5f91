import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { lookup } from 'node:dns/promises'
import { assertRepository } from '../tenancy/index.js'
import { decideTarget, type Resolver } from './drivers/local/egress-gateway.js'
import { InvalidError } from '../shared/errors.js'
import { DEPLOY_ERRORS } from './errors.js'

export interface GitSourceOptions {
  /** Absolute directories local repositories may live in; empty = local repositories refused. */
  readonly localRoots: readonly string[]
  /** Never clonable (the platform's own data, including pushed repositories of other tenants). */
  readonly dataDir: string
}

/** A git ref to deploy: a branch or tag name, or a full commit id. Never an option (`-…`). */
const REF_RE = /^(?!-)(?!.*\.\.)(?!.*\/\/)(?!.*\.lock$)(?!\/)[A-Za-z0-9._/-]{1,200}(?<!\/)$/
/** Characters allowed in a local repository path (kept simple: no spaces, quotes or shell syntax). */
const LOCAL_PATH_RE = /^\/[A-Za-z0-9._/+@-]*$/

function refused(message: string): never {
  throw new InvalidError(DEPLOY_ERRORS.repositoryRefused, message, {
    publicCode: 'repository_refused',
    details: [{ field: 'repository', message }],
  })
}

export function assertRef(ref: string): void {
  if (!REF_RE.test(ref)) {
    throw new InvalidError(DEPLOY_ERRORS.invalidField, 'ref must be a branch, tag or commit id', {
      details: [{ field: 'ref', message: 'must be a branch, tag or commit id' }],
    })
  }
}

function within(child: string, root: string): boolean {
  const rel = path.relative(root, child)
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel))
}

/**
 * Turns a project's repository into the URL handed to git, or refuses it. `https://` passes as is;
 * a local path or `file://` URL must resolve (symlinks followed) inside an allowed root and outside
 * the data dir, so that one tenant cannot deploy — and so read — another's repository or any repo on the host.
 */
export function resolveRepository(
  repository: string,
  options: GitSourceOptions,
): { url: string; display: string } {
  assertRepository(repository)
  if (repository.startsWith('https://')) {
    return { url: repository, display: repository }
  }
  const raw = repository.startsWith('file://') ? decodeURIComponent(new URL(repository).pathname) : repository
  if (options.localRoots.length === 0) {
    refused(
      'local repositories are disabled on this platform (an administrator can allow directories with PALISADE_GIT_LOCAL_ROOTS)',
    )
  }
  if (!existsSync(raw)) refused('the local repository does not exist')
  const real = realpathSync(raw)
  if (!LOCAL_PATH_RE.test(real))
    refused('local repository paths may hold only letters, digits and . _ / + @ -')
  const dataDir = existsSync(options.dataDir) ? realpathSync(options.dataDir) : options.dataDir
  if (within(real, dataDir)) refused('the platform data directory cannot be deployed from')
  const roots = options.localRoots.map((r) => (existsSync(r) ? realpathSync(r) : path.resolve(r)))
  if (!roots.some((r) => within(real, r)))
    refused('the local repository is outside the directories allowed by PALISADE_GIT_LOCAL_ROOTS')
  return { url: 'file://' + real, display: real }
}

/**
 * Checks that an `https://` repository's host resolves only to public addresses (the egress gateway's
 * rule: no loopback, private, link-local or metadata address) and returns the `host:port:address` pin
 * git must use, so that a second lookup cannot rebind the name.
 */
export async function assertPublicRepository(
  url: string,
  resolve: Resolver = async (h) => (await lookup(h, { all: true })).map((a) => a.address),
): Promise<string> {
  const u = new URL(url)
  const port = Number(u.port || 443)
  const host = u.hostname.replace(/^\[|\]$/g, '')
  const d = await decideTarget({ kind: 'public' }, host, resolve)
  if (!d.ok) refused(`the repository host ${host} is refused: ${d.reason}`)
  const addr = d.address.includes(':') ? `[${d.address}]` : d.address
  return `${host}:${port}:${addr}`
}

export interface GitRunResult {
  readonly code: number | null
  readonly output: string
}

/** Git with a clean, non-interactive environment: no system or user config, no prompts, no hooks. */
function git(
  args: readonly string[],
  cwd: string,
  home: string,
  timeoutMs: number,
  onOutput: (t: string) => void,
  resolvePin?: string,
  globalConfig = '/dev/null',
): Promise<GitRunResult> {
  const argv = [
    ...(resolvePin ? ['-c', `http.curloptResolve=${resolvePin}`, '-c', 'http.followRedirects=false'] : []),
    '-c',
    'protocol.allow=never',
    '-c',
    'protocol.https.allow=always',
    '-c',
    'protocol.file.allow=always',
    '-c',
    'core.hooksPath=/dev/null',
    '-c',
    'core.symlinks=true',
    '-c',
    'init.defaultBranch=main',
    '-c',
    'advice.detachedHead=false',
    ...args,
  ]
  return new Promise((resolve) => {
    const child = spawn('git', argv, {
      cwd,
      shell: false,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        HOME: home,
        GIT_TERMINAL_PROMPT: '0',
        GIT_ASKPASS: '/bin/false',
        SSH_ASKPASS: '/bin/false',
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_CONFIG_GLOBAL: globalConfig,
        GIT_PROTOCOL_FROM_USER: '0',
        LANG: 'C',
      },
    })
    let output = ''
    const take = (t: string): void => {
      output += t
      onOutput(t)
    }
    child.stdout.setEncoding('utf8').on('data', take)
    child.stderr.setEncoding('utf8').on('data', take)
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', (e) => take(e.message + '\n'))
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, output })
    })
  })
}

/**
 * Fetches one commit of `url` at `ref` into `dir` (created empty) and returns its id. The `.git`
 * directory is removed afterwards: a release holds only the tree.
 */
export async function fetchSource(input: {
  url: string
  ref: string
  dir: string
  home: string
  timeoutMs: number
  onOutput: (t: string) => void
  /** `host:port:address`: connect to this checked address only (remote repositories). */
  resolvePin?: string
}): Promise<string> {
  assertRef(input.ref)
  const { dir, home, timeoutMs, onOutput } = input
  mkdirSync(dir, { recursive: true })
  mkdirSync(home, { recursive: true })
  const steps: string[][] = [
    ['init', '-q', '.'],
    // `--` ends options: neither the URL nor the ref can be read as one.
    ['fetch', '-q', '--depth', '1', '--no-tags', '--', input.url, input.ref],
    ['checkout', '-q', '--detach', 'FETCH_HEAD'],
  ]
  // A local repository belongs to whoever made it (a user of the host, not the control plane): git would
  // refuse it as of "dubious ownership". The path was checked against the allowed roots; trust that one only.
  // (git reads safe.directory only from protected configuration: a global file of our own, in root's home.)
  const local = input.url.startsWith('file://') ? decodeURIComponent(new URL(input.url).pathname) : null
  const globalConfig = path.join(home, 'gitconfig')
  writeFileSync(globalConfig, local ? `[safe]\n\tdirectory = ${local}\n\tdirectory = ${local}/.git\n` : '', {
    mode: 0o600,
  })
  for (const args of steps) {
    const r = await git(args, dir, home, timeoutMs, onOutput, input.resolvePin, globalConfig)
    if (r.code !== 0) throw new Error(`git ${args[0]} failed (exit ${r.code ?? 'killed'})`)
  }
  const head = await git(['rev-parse', 'HEAD'], dir, home, timeoutMs, () => undefined)
  const commit = head.output.trim()
  if (head.code !== 0 || !/^[0-9a-f]{40,64}$/.test(commit)) throw new Error('git rev-parse failed')
  rmSync(path.join(dir, '.git'), { recursive: true, force: true })
  return commit
}
