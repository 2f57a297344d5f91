import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import path from 'node:path'
import { authorize, type Principal } from '../iam/index.js'
import type { RequestContext } from '../shared/context.js'
import { NotFoundError } from '../shared/errors.js'
import { randomToken } from '../shared/ids.js'
import type { Deployer } from './deployer.js'
import { DEPLOY_ERRORS } from './errors.js'
import { assertRef } from './git-source.js'
import type { DeployDeps } from './types.js'

/** What a push request resolved to (workspace and project looked up, caller authorized). */
export interface PushTarget {
  readonly workspaceId: string
  readonly projectId: string
  /** Names, for log lines. */
  readonly workspaceName: string
  readonly projectName: string
  readonly repoDir: string
}

interface PendingPush {
  readonly principal: Principal
  readonly ctx: RequestContext
  readonly target: PushTarget
}

const ZERO = /^0+$/

/**
 * The post-receive hook of every pushed repository: it hands the updated refs and the push id to the
 * control plane over a Unix socket (0600) and prints what comes back — deployment logs — to the pusher.
 * The hook has no extension, so Node decides its module type from the nearest package.json: with the data
 * dir inside a checkout whose package.json says `"type": "module"` (Palisade's own, the README's default)
 * it runs as ESM, elsewhere as CommonJS. It therefore uses only what both have (`import()`, no `require`),
 * and exits non-zero when it cannot reach the control plane so that the pusher sees the failure.
 */
export function hookSource(socketPath: string): string {
  return `#!${process.execPath}
let input = ''
const fail = (e) => {
  console.log('palisade: could not start deployments: ' + (e && e.message ? e.message : String(e)))
  process.exitCode = 1
}
process.stdin.on('data', (d) => (input += d)).on('end', () => {
  import('node:net').then((net) => {
    const c = net.connect(${JSON.stringify(socketPath)}, () => c.write(JSON.stringify({ pushId: process.env.PALISADE_PUSH_ID || '', updates: input }) + '\\n'))
    c.pipe(process.stdout)
    c.on('error', fail)
  }, fail)
})
`
}

/**
 * git push over smart HTTP: repositories live bare under `<data>/git/<workspaceId>/<projectId>.git`;
 * `git http-backend` serves them (CGI), and a push deploys every environment tracking the pushed
 * branch, streaming the build logs back as `remote:` lines.
 */
export function createGitPush(deps: DeployDeps, deployer: Deployer) {
  const root = path.join(deps.dataDir, 'git')
  const socketPath = path.join(deps.dataDir, 'run', 'git-hook.sock')
  const pending = new Map<string, PendingPush>()
  let server: Server | null = null

  async function handleHook(line: string, write: (s: string) => void): Promise<void> {
    const msg = JSON.parse(line) as { pushId?: unknown; updates?: unknown }
    const push = typeof msg.pushId === 'string' ? pending.get(msg.pushId) : undefined
    if (!push || typeof msg.updates !== 'string') {
      deps.logger?.warn(
        {},
        'a git hook reported a push this control plane did not receive (a push from before a restart, or a hook run by hand): nothing deployed',
      )
      return write('palisade: unknown push\n')
    }
    pending.delete(msg.pushId as string)
    const repo = `${push.target.workspaceName}/${push.target.projectName}.git`
    for (const u of msg.updates.split('\n')) {
      const [, next, ref] = u.trim().split(' ')
      if (
        !next ||
        !ref ||
        ZERO.test(next) ||
        !/^[0-9a-f]{40,64}$/.test(next) ||
        !ref.startsWith('refs/heads/')
      )
        continue
      const branch = ref.slice('refs/heads/'.length)
      assertRef(branch)
      const { deployments, skipped } = await deployer.createForPush(
        push.principal,
        push.ctx,
        push.target.projectId,
        branch,
        next,
      )
      for (const e of skipped)
        write(
          `palisade: environment ${e.name} (${e.criticality}) skipped: your role may not deploy it; ask an admin to run \`palisade deploy\`\n`,
        )
      if (skipped.length > 0)
        deps.logger?.info(
          { projectId: push.target.projectId, skipped: skipped.map((e) => e.name) },
          `git push to ${repo} (${branch}): ${skipped.map((e) => e.name).join(', ')} skipped, the pusher's role may not deploy them`,
        )
      if (deployments.length === 0 && skipped.length === 0) {
        write(`palisade: no environment tracks branch ${branch}\n`)
        deps.logger?.info(
          { projectId: push.target.projectId, branch },
          `git push to ${repo} (${branch}): no environment tracks that branch, nothing deployed`,
        )
      }
      for (const d of deployments) {
        write(
          `palisade: deployment ${d.number} of environment ${d.environmentId} queued for ${branch} (${next.slice(0, 12)})\n`,
        )
        await new Promise<void>((resolve) => {
          const stop = deployer.logs.subscribe(d.id, (e) => {
            if ('text' in e) write(e.text)
            else {
              stop()
              resolve()
            }
          })
          // A deployment may finish before the subscription (an early failure): poll its status once in a while.
          const timer = setInterval(() => {
            void deployer.get(push.principal, d.id).then((cur) => {
              if (cur.status === 'succeeded' || cur.status === 'failed') {
                clearInterval(timer)
                stop()
                resolve()
              }
            })
          }, 1000)
          timer.unref()
        })
        const done = await deployer.get(push.principal, d.id)
        write(`palisade: deployment ${d.number} ${done.status}${done.reason ? `: ${done.reason}` : ''}\n`)
      }
    }
  }

  return {
    /** Starts the hook socket (once). */
    async start(): Promise<void> {
      if (server) return
      mkdirSync(path.dirname(socketPath), { recursive: true, mode: 0o700 })
      rmSync(socketPath, { force: true })
      server = createServer((conn) => {
        let buf = ''
        conn.setEncoding('utf8')
        conn.on('error', () => undefined)
        conn.on('data', (d: string) => {
          buf += d
          if (buf.length > 1024 * 1024) return conn.destroy()
          const nl = buf.indexOf('\n')
          if (nl === -1) return
          const line = buf.slice(0, nl)
          buf = ''
          handleHook(line, (s) => conn.write(s))
            .catch((err: unknown) => {
              const why = err instanceof Error ? err.message : 'error'
              deps.logger?.warn({ err: why }, `a git push could not start deployments: ${why}`)
              conn.write(`palisade: ${why}\n`)
            })
            .finally(() => conn.end())
        })
      })
      await new Promise<void>((resolve) => server?.listen(socketPath, resolve))
      chmodSync(socketPath, 0o600)
    },

    async stop(): Promise<void> {
      const s = server
      server = null
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()))
    },

    /** Finds `<workspace>/<project>.git` and checks the caller may deploy it (read for fetches). 404 when not visible. */
    async resolve(
      principal: Principal,
      workspaceRef: string,
      repo: string,
      write: boolean,
    ): Promise<PushTarget> {
      const hidden = new NotFoundError(DEPLOY_ERRORS.notFound, 'repository not found', {
        publicCode: 'not_found',
      })
      const m = /^([a-z][a-z0-9-]{1,62})\.git$/.exec(repo)
      if (!m || workspaceRef.length > 100) throw hidden
      const ws = await deps.db
        .selectFrom('workspaces')
        .select(['id', 'name'])
        .where((eb) => eb.or([eb('id', '=', workspaceRef), eb('name', '=', workspaceRef)]))
        .executeTakeFirst()
      if (!ws) throw hidden
      const project = await deps.db
        .selectFrom('projects')
        .select(['id', 'name'])
        .where('workspace_id', '=', ws.id)
        .where('name', '=', m[1] as string)
        .executeTakeFirst()
      if (!project) throw hidden
      await authorize(deps.db, principal, write ? 'deployment.create' : 'deployment.read', {
        type: 'repository',
        workspaceId: ws.id,
      })
      const repoDir = path.join(root, ws.id, `${project.id}.git`)
      return {
        workspaceId: ws.id,
        projectId: project.id,
        workspaceName: ws.name,
        projectName: project.name,
        repoDir,
      }
    },

    /**
     * Runs `git http-backend` for one request. The caller streams the request body into `stdin` and
     * the CGI answer out of `stdout` (headers, blank line, body).
     */
    async backend(input: {
      principal: Principal
      ctx: RequestContext
      target: PushTarget
      method: string
      pathInfo: string
      query: string
      contentType: string | undefined
      contentEncoding: string | undefined
      gitProtocol: string | undefined
    }): Promise<ChildProcessWithoutNullStreams> {
      const { target } = input
      await this.start()
      if (!existsSync(target.repoDir)) {
        mkdirSync(target.repoDir, { recursive: true, mode: 0o700 })
        await new Promise<void>((resolve, reject) => {
          const c = spawn('git', ['init', '-q', '--bare', '-b', 'main', '--', target.repoDir], {
            shell: false,
            stdio: 'ignore',
            env: {
              PATH: process.env['PATH'] ?? '/usr/bin:/bin',
              GIT_CONFIG_NOSYSTEM: '1',
              GIT_CONFIG_GLOBAL: '/dev/null',
            },
          })
          c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error('git init failed'))))
          c.on('error', reject)
        })
      }
      // Rewritten on every request: the hook always points at this control plane's socket.
      writeFileSync(path.join(target.repoDir, 'hooks', 'post-receive'), hookSource(socketPath), {
        mode: 0o700,
      })
      // Only a receive-pack POST runs the post-receive hook: it alone gets a push id to report back with.
      const receives = input.method === 'POST' && input.pathInfo === '/git-receive-pack'
      const pushId = randomToken(24)
      if (receives) {
        pending.set(pushId, { principal: input.principal, ctx: input.ctx, target })
        setTimeout(() => pending.delete(pushId), 30 * 60_000).unref()
      }
      const env: Record<string, string> = {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_CONFIG_GLOBAL: '/dev/null',
        GIT_PROJECT_ROOT: path.dirname(target.repoDir),
        GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: `/${path.basename(target.repoDir)}${input.pathInfo}`,
        REQUEST_METHOD: input.method,
        QUERY_STRING: input.query,
        REMOTE_USER: input.principal.type === 'platform' ? 'platform' : input.principal.userId,
        REMOTE_ADDR: input.ctx.ip ?? '',
        PALISADE_PUSH_ID: pushId,
      }
      if (input.contentType) env['CONTENT_TYPE'] = input.contentType
      if (input.contentEncoding) env['HTTP_CONTENT_ENCODING'] = input.contentEncoding
      if (input.gitProtocol) env['GIT_PROTOCOL'] = input.gitProtocol
      const child = spawn('git', ['-c', 'receive.denyDeleteCurrent=false', 'http-backend'], {
        shell: false,
        env,
        stdio: ['pipe', 'pipe', 'pipe'],
      })
      if (receives)
        child.on('exit', () => {
          // The hook runs before git answers; still pending now means it never reached this control plane (the
          // pusher saw `could not start deployments` and a non-zero exit) or no branch was updated.
          if (!pending.delete(pushId)) return
          deps.logger?.warn(
            { workspaceId: target.workspaceId, projectId: target.projectId },
            `git push to ${target.workspaceName}/${target.projectName}.git received, but its post-receive hook never reached the control plane: nothing deployed (unless no branch changed); check ${socketPath}`,
          )
        })
      return child
    },

    repoDirOf(workspaceId: string, projectId: string): string {
      return path.join(root, workspaceId, `${projectId}.git`)
    },
  }
}

export type GitPush = ReturnType<typeof createGitPush>
