import assert from 'node:assert/strict'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { removeSandboxes } from './services-helpers.js'
import { freePort, REPO } from './support/processes.js'

/**
 * The README's quick tour, run literally: its shell code blocks are extracted from README.md and each line runs
 * in bash, in a copy of the checkout, with the data dir at its default (`./.palisade`, inside the checkout, whose
 * package.json says "type": "module") and a real `npm start`. What the test changes, and only that:
 * - `npm install` is `npm run build` (the copy links the checkout's node_modules; `prepare` is that build);
 * - the README's ports (API 8080, edge 8000/8443) become free ports, through the documented variables, so the
 *   test can run beside others; the CLI gets PALISADE_API_URL accordingly;
 * - placeholders the README tells the reader to fill (`<token>`, `<invitation>`, `<backup-id>`) are filled from
 *   the outputs the README says they come from;
 * - answers to the CLI's questions (passwords) come on stdin.
 * Every command must exit 0, and a few outputs are checked. If the README and the CLI drift apart, this fails.
 */

const PASSWORD = 'correct horse battery staple 42'
const DEV_PASSWORD = 'a sturdy passphrase for dev 9'

/** The shell lines of the code blocks of the README's "Quick tour" section, in order. */
export function tourCommands(readme: string): string[] {
  const start = readme.indexOf('## Quick tour')
  assert.ok(start >= 0, 'the README has a Quick tour section')
  const next = readme.indexOf('\n## ', start + 1)
  const section = readme.slice(start, next === -1 ? undefined : next)
  const lines: string[] = []
  for (const m of section.matchAll(/```sh\n([\s\S]*?)```/g))
    for (const line of (m[1] ?? '').split('\n')) if (line.trim() !== '') lines.push(line)
  return lines
}

interface Ran {
  code: number
  out: string
}

function run(
  line: string,
  cwd: string,
  env: Record<string, string>,
  input: string,
  timeoutMs: number,
): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn('/bin/bash', ['-c', line], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (out += d.toString()))
    // A command that reads no stdin may exit before the answers are written: that is not a failure.
    child.stdin.on('error', () => undefined)
    child.stdin.end(input)
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code: code ?? -1, out })
    })
  })
}

/** The newest invitation token in the outbox (quoted-printable soft breaks undone). */
function invitationFromOutbox(dataDir: string): string {
  const dir = path.join(dataDir, 'outbox')
  const mails = readdirSync(dir)
    .sort()
    .map((f) =>
      readFileSync(path.join(dir, f), 'utf8')
        .replace(/=\r?\n/g, '')
        .replace(/=3D/g, '='),
    )
  for (const mail of mails.reverse()) {
    const m = /\/invitations\/(inv_[A-Za-z0-9_-]+)/.exec(mail)
    if (m?.[1]) return m[1]
  }
  throw new Error('no invitation link in the outbox')
}

test(
  'the README quick tour runs as written: setup, deploy, edge, WAF, push, invitation, rollback, audit, backups, sync',
  { timeout: 30 * 60_000 },
  async (t) => {
    const lines = tourCommands(readFileSync(path.join(REPO, 'README.md'), 'utf8'))
    assert.ok(lines.length >= 30, `the tour has its commands (${lines.length})`)
    assert.equal(lines[0]?.replace(/\s+#.*$/, ''), 'npm install && npm start &', 'the tour starts the server')

    // A copy of the checkout (what `git clone` gives, plus uncommitted work), traversable by environment users.
    // Short: service sockets live under the data dir, and a Unix socket path holds at most 107 bytes.
    const root = mkdtempSync(path.join(tmpdir(), 'prt-'))
    chmodSync(root, 0o711)
    // Hooks run in the order they were added: the server (started later) is stopped first, then the copy removed.
    let stopServer: () => Promise<void> = () => Promise.resolve()
    t.after(async () => {
      await stopServer()
      rmSync(root, { recursive: true, force: true })
    })
    const checkout = path.join(root, 'p')
    mkdirSync(checkout, { mode: 0o755 })
    const files = spawnSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], {
      cwd: REPO,
      encoding: 'utf8',
    })
    assert.equal(files.status, 0)
    for (const f of files.stdout.split('\0').filter(Boolean)) {
      if (!existsSync(path.join(REPO, f))) continue
      mkdirSync(path.dirname(path.join(checkout, f)), { recursive: true })
      cpSync(path.join(REPO, f), path.join(checkout, f))
    }
    symlinkSync(path.join(REPO, 'node_modules'), path.join(checkout, 'node_modules'))
    const home = path.join(root, 'home')
    mkdirSync(home)
    const dataDir = path.join(checkout, '.palisade')

    const apiPort = await freePort()
    const edgePort = await freePort()
    const httpsPort = await freePort()
    const apiUrl = `http://127.0.0.1:${apiPort}`
    const env: Record<string, string> = {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: home,
      LANG: 'C.UTF-8',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_TERMINAL_PROMPT: '0',
      GIT_AUTHOR_NAME: 'Tour',
      GIT_AUTHOR_EMAIL: 'tour@example.com',
      GIT_COMMITTER_NAME: 'Tour',
      GIT_COMMITTER_EMAIL: 'tour@example.com',
      PALISADE_API_LISTEN: `127.0.0.1:${apiPort}`,
      PALISADE_EDGE_HTTP_LISTEN: `127.0.0.1:${edgePort}`,
      PALISADE_EDGE_HTTPS_LISTEN: `127.0.0.1:${httpsPort}`,
      PALISADE_API_URL: apiUrl,
      ...(process.env['NODE_EXTRA_CA_CERTS']
        ? { NODE_EXTRA_CA_CERTS: process.env['NODE_EXTRA_CA_CERTS'] }
        : {}),
    }
    // Environments the tour creates: their system users and namespaces are removed at the end.
    const envIds = new Set<string>()
    const ports = (line: string): string =>
      line
        .replaceAll('127.0.0.1:8080', `127.0.0.1:${apiPort}`)
        .replaceAll('127.0.0.1:8000', `127.0.0.1:${edgePort}`)

    // Line 1: `npm install` (here: its prepare step, the build) && `npm start`, in the background.
    const build = await run('npm run build', checkout, env, '', 10 * 60_000)
    assert.equal(build.code, 0, build.out)
    let serverOut = ''
    const server: ChildProcess = spawn('npm', ['start'], {
      cwd: checkout,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    })
    server.stdout?.on('data', (d: Buffer) => (serverOut += d.toString()))
    server.stderr?.on('data', (d: Buffer) => (serverOut += d.toString()))
    stopServer = async () => {
      if (server.exitCode === null && server.pid !== undefined) {
        const exited = new Promise((r) => server.once('exit', r))
        process.kill(-server.pid, 'SIGTERM')
        await exited
      }
      // Whatever this run started and the server left behind (a shutdown that hangs, a service daemon): the
      // processes whose working directory or command line is inside this run's own temporary directory, given
      // 20 s to stop on their own.
      const ours = (): number[] =>
        readdirSync('/proc')
          .filter((d) => /^\d+$/.test(d) && Number(d) !== process.pid)
          .filter((pid) => {
            try {
              return (
                readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(root) ||
                readlinkSync(`/proc/${pid}/cwd`).startsWith(root)
              )
            } catch {
              return false
            }
          })
          .map(Number)
      for (let i = 0; i < 200 && ours().length > 0; i++) await new Promise((r) => setTimeout(r, 100))
      for (const pid of ours()) {
        try {
          process.kill(pid, 'SIGKILL')
        } catch {
          // gone already
        }
      }
      removeSandboxes(envIds)
    }
    for (let i = 0; ; i++) {
      if (server.exitCode !== null) assert.fail(`npm start exited: ${serverOut}`)
      const up = await fetch(`${apiUrl}/v1/health`)
        .then((r) => r.ok)
        .catch(() => false)
      if (up) break
      assert.ok(i < 600, `the server answers within a minute: ${serverOut}`)
      await new Promise((r) => setTimeout(r, 100))
    }
    assert.match(serverOut, /setup token/i, 'the first start prints the setup token')

    const seen: Array<{ line: string; out: string }> = []
    const fill: Record<string, string> = {}
    const outputOf = (re: RegExp): string => {
      const hit = seen.find((s) => re.test(s.line))
      assert.ok(hit, `ran a line matching ${String(re)}`)
      return hit.out
    }
    for (const raw of lines.slice(1)) {
      let line = ports(raw)
      if (line.includes('<invitation>')) {
        fill['invitation'] ??= invitationFromOutbox(dataDir)
        line = line.replaceAll('<invitation>', fill['invitation'])
      }
      for (const [k, v] of Object.entries(fill)) line = line.replaceAll(`<${k}>`, v)
      assert.doesNotMatch(line, /<[a-z-]+>/, `every placeholder of ${raw} is known`)
      const input = /palisade setup/.test(line)
        ? `${PASSWORD}\n${PASSWORD}\n`
        : /palisade login/.test(line)
          ? `${PASSWORD}\n`
          : /invitations accept/.test(line)
            ? `${DEV_PASSWORD}\n${DEV_PASSWORD}\n`
            : ''
      const r = await run(line, checkout, env, input, 10 * 60_000)
      seen.push({ line: raw, out: r.out })
      if (r.code !== 0) {
        const services = spawnSync('/bin/sh', ['-c', 'ls -la .palisade/envs/*/services/* 2>&1 | head -40'], {
          cwd: checkout,
          encoding: 'utf8',
        })
        assert.fail(
          `README line exits 0: ${raw}\n${r.out}\n--- services ---\n${services.stdout}\n--- server ---\n${serverOut.slice(-3000)}`,
        )
      }
      // Values the README tells the reader to carry to a later line.
      const token = /Token \(shown once[^)]*\): (pal_[A-Za-z0-9_-]+)/.exec(r.out)?.[1]
      if (token) fill['token'] = token
      const backup = /^Backup ([a-z]{3}_[a-z0-9]+) succeeded\.$/m.exec(r.out)?.[1]
      if (backup && /backup create/.test(line)) fill['backup-id'] = backup
      for (const id of r.out.match(/env_[a-z0-9]{20}/g) ?? []) envIds.add(id)
    }

    // What the README says each step shows.
    assert.match(outputOf(/^curl -H 'Host: main.shop.acme.localhost' http:/), /^hello$/m)
    assert.match(outputOf(/OR%20/), /403|forbidden|blocked/i)
    assert.match(outputOf(/palisade status/), /release\s+1\b/)
    assert.match(outputOf(/git -C tour-shop push/), /remote: palisade: deployment \d+ succeeded/)
    assert.match(
      outputOf(/^curl http:\/\/127.0.0.1:8080\/invitations/),
      /workspace <b>acme<\/b> as <b>developer<\/b>/,
    )
    assert.match(outputOf(/palisade members list/), /dev@example.com\s+developer/)
    assert.match(outputOf(/palisade rollback/), /succeeded \(release 1\b/)
    assert.match(outputOf(/palisade audit verify/), /OK: \d+ events verified/)
    assert.match(outputOf(/palisade sync/), /succeeded/)
    assert.ok(existsSync(path.join(dataDir, 'edge/ca/ca.crt')), 'the local CA is where the README says')
    // What the tour leaves in the checkout is ignored by git.
    const leftovers = ['tour-shop/server.js', 'rules.json', 'shop.pbk', '.palisade/palisade.db']
    const ignored = spawnSync('git', ['check-ignore', '--no-index', ...leftovers], {
      cwd: REPO,
      encoding: 'utf8',
    })
    assert.deepEqual(
      ignored.stdout.trim().split('\n').sort(),
      [...leftovers].sort(),
      'git ignores what the tour leaves',
    )
  },
)
