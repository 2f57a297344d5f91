/**
 * Fixtures for the deploy tests: real git repositories in temp dirs and tiny Node apps. Not used by
 * production code.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'

const GIT_ENV = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
}

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    env: GIT_ENV,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim()
}

export interface TestRepo {
  readonly dir: string
  /** Writes the files (relative paths) and commits them; returns the commit id. */
  commit(files: Record<string, string>, message?: string): string
}

export function createRepo(dir: string, branch = 'main'): TestRepo {
  mkdirSync(dir, { recursive: true })
  git(dir, 'init', '-q', '-b', branch)
  return {
    dir,
    commit(files, message = 'change') {
      for (const [name, text] of Object.entries(files)) {
        mkdirSync(path.dirname(path.join(dir, name)), { recursive: true })
        writeFileSync(path.join(dir, name), text)
      }
      git(dir, 'add', '-A')
      git(dir, 'commit', '-q', '--allow-empty', '-m', message)
      return git(dir, 'rev-parse', 'HEAD')
    },
  }
}

/**
 * A Node app answering `<version> <GREETING>` on every path, `/health` included. `failHealth` makes
 * `/health` answer 500; `crash` makes it exit 1 right after start.
 */
export function nodeApp(
  version: string,
  options: { failHealth?: boolean; crash?: boolean; extra?: string } = {},
): Record<string, string> {
  const server = `
const http = require('node:http')
${options.crash ? "console.error('boom'); process.exit(1)" : ''}
const server = http.createServer((req, res) => {
  if (req.url === '/health' && ${options.failHealth ? 'true' : 'false'}) { res.writeHead(500); return res.end('sick') }
  if (req.url === '/env') { res.writeHead(200, { 'content-type': 'application/json' }); return res.end(JSON.stringify(process.env)) }
  res.writeHead(200, { 'content-type': 'text/plain' })
  res.end('${version} ' + (process.env.GREETING || 'hello') + '\\n')
})
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening ${version}'))
process.on('SIGTERM', () => { server.close(() => process.exit(0)); server.closeIdleConnections() })
${options.extra ?? ''}
`
  return {
    'package.json': JSON.stringify(
      { name: 'app', version: '1.0.0', private: true, scripts: { start: 'node server.js' } },
      null,
      2,
    ),
    'server.js': server,
  }
}

/** Polls `check` every 25 ms until it returns a value, or throws after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<T> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const v = await check()
    if (v !== undefined && v !== false) return v
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}
