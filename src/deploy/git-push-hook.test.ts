import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { hookSource } from './git-push.js'

function runHook(file: string, stdin: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const c = spawn(file, [], { env: { PALISADE_PUSH_ID: 'push-1' }, stdio: ['pipe', 'pipe', 'pipe'] })
    let out = ''
    c.stdout.on('data', (d: Buffer) => (out += d.toString()))
    c.stderr.on('data', (d: Buffer) => (out += d.toString()))
    c.stdin.end(stdin)
    c.on('close', (code) => resolve({ code: code ?? -1, out }))
  })
}

// The README's default data dir is `./.palisade` inside the checkout, whose package.json says "type": "module":
// the extensionless hook then runs as ESM, where `require` does not exist.
for (const type of ['module', 'commonjs']) {
  test(`the post-receive hook reaches the control plane under a package.json of type ${type}`, async (t) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'palisade-hook-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type }))
    const hooks = path.join(dir, '.palisade/git/ws/p.git/hooks')
    mkdirSync(hooks, { recursive: true })
    const sock = path.join(dir, 'hook.sock')
    let received = ''
    const server = createServer((conn) => {
      conn.setEncoding('utf8')
      conn.on('data', (d: string) => {
        received += d
        if (received.includes('\n')) conn.end('palisade: deployment 1 queued\n')
      })
    })
    await new Promise<void>((resolve) => server.listen(sock, resolve))
    t.after(() => server.close())
    const hook = path.join(hooks, 'post-receive')
    writeFileSync(hook, hookSource(sock), { mode: 0o700 })
    const r = await runHook(hook, `${'0'.repeat(40)} ${'a'.repeat(40)} refs/heads/main\n`)
    assert.equal(r.code, 0, r.out)
    assert.match(r.out, /deployment 1 queued/)
    assert.deepEqual(JSON.parse(received.trim()), {
      pushId: 'push-1',
      updates: `${'0'.repeat(40)} ${'a'.repeat(40)} refs/heads/main\n`,
    })
  })
}

test('the post-receive hook fails loudly (exit 1) when the control plane is not listening', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'palisade-hook-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }))
  const hook = path.join(dir, 'post-receive')
  writeFileSync(hook, hookSource(path.join(dir, 'absent.sock')), { mode: 0o700 })
  const r = await runHook(hook, 'x\n')
  assert.equal(r.code, 1)
  assert.match(r.out, /could not start deployments/)
})
