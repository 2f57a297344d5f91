import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { totpCode } from '../src/iam/index.js'
import { OWNER, setUpOwner, startPlatform } from './support/platform.js'
import { runCli } from './support/processes.js'

const OFFLINE = { PALISADE_API_URL: 'http://127.0.0.1:9', PALISADE_TOKEN: 'pss_x' }

test('the CLI covers the API a new user reaches for: deployments, status, 2fa, password, waf events and settings, domains, access, invitations', async () => {
  const help = await runCli(['--help'], {})
  assert.equal(help.code, 0)
  for (const cmd of ['deployments', 'status', '2fa', 'password', 'domains', 'access', 'invitations'])
    assert.match(help.stdout, new RegExp(`^  ${cmd}\\b`, 'm'), `palisade ${cmd}`)
  const waf = await runCli(['waf', '--help'], {})
  for (const sub of ['events', 'settings'])
    assert.match(waf.stdout, new RegExp(`^  ${sub}\\b`, 'm'), `palisade waf ${sub}`)
  const inv = await runCli(['invitations', '--help'], {})
  assert.match(inv.stdout, /^ {2}accept\b/m)
  const twofa = await runCli(['2fa', '--help'], {})
  for (const sub of ['enable', 'disable']) assert.match(twofa.stdout, new RegExp(`^  ${sub}\\b`, 'm'))
})

test('usage mistakes exit 2 with a sentence, before anything is sent', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'palisade-usage-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const missing = await runCli(['ssh-keys', 'add', path.join(dir, 'nope.pub')], OFFLINE)
  assert.equal(missing.code, 2, missing.stderr)
  assert.match(missing.stderr, /no such file: .*nope\.pub/)
  const privateKey = path.join(dir, 'id_ed25519')
  writeFileSync(privateKey, '-----BEGIN OPENSSH PRIVATE KEY-----\nxx\n-----END OPENSSH PRIVATE KEY-----\n')
  const priv = await runCli(['ssh-keys', 'add', privateKey], OFFLINE)
  assert.equal(priv.code, 2, priv.stderr)
  assert.match(priv.stderr, /is a private key; pass the \.pub file/)
  const noEnv = await runCli(['backup', 'create'], OFFLINE)
  assert.equal(noEnv.code, 2, noEnv.stderr)
  assert.match(noEnv.stderr, /name the environment/)
  const twoEnvs = await runCli(['backup', 'list', 'shop/main', '--env', 'shop/staging'], OFFLINE)
  assert.equal(twoEnvs.code, 2, twoEnvs.stderr)
  const badLink = await runCli(['invitations', 'accept', 'https://example.com/nothing'], OFFLINE)
  assert.equal(badLink.code, 2, badLink.stderr)
  assert.match(badLink.stderr, /invitation token/)
  const unknown = await runCli(['deployments', 'frobnicate'], OFFLINE)
  assert.equal(unknown.code, 2)
})

test('with two workspaces and no --workspace, the CLI names them and PALISADE_WORKSPACE', async (t) => {
  const tp = await startPlatform(t, 'sqlite')
  const { token } = await setUpOwner(tp)
  const second = await tp.call('POST', '/v1/workspaces', { token, body: { name: 'beta' } })
  assert.equal(second.statusCode, 201, second.body)
  const api = await tp.platform.app.listen({ host: '127.0.0.1', port: 0 })
  const env = { PALISADE_API_URL: api, PALISADE_TOKEN: token }
  const r = await runCli(['projects', 'list'], env)
  assert.equal(r.code, 2, r.stderr)
  assert.match(
    r.stderr,
    /2 workspaces \(acme, beta\): pass --workspace <name>, or set PALISADE_WORKSPACE=<name>/,
  )
  const ok = await runCli(['projects', 'list'], { ...env, PALISADE_WORKSPACE: 'beta' })
  assert.equal(ok.code, 0, ok.stderr)
})

test('waf test-crs in a clone without the CRS regression tests says where to get them and runs Palisade’s own suite', async () => {
  const r = await runCli(
    ['waf', 'test-crs', '--tests', '/nonexistent/crs-tests', '--filter', 'PALISADE-RULES/9500100'],
    {
      PATH: process.env['PATH'] ?? '',
    },
  )
  assert.match(
    r.stderr,
    /git clone --depth 1 --branch v3\.3\.4 https:\/\/github\.com\/coreruleset\/coreruleset/,
  )
  assert.match(r.stdout, /^PALISADE-RULES\/\S+\t\d+\t0\t/m, r.stdout + r.stderr)
  assert.match(r.stdout, /^TOTAL\t[1-9]\d*\t0\t/m)
  assert.equal(r.code, 0, r.stderr)
})

test('login with 2FA on asks for the code (the next stdin line) instead of failing with totp_required', async (t) => {
  const tp = await startPlatform(t, 'sqlite')
  const { token } = await setUpOwner(tp)
  const enrol = await tp.call('POST', '/v1/me/totp', { token })
  const { secret } = enrol.json() as { secret: string }
  const confirm = await tp.call('POST', '/v1/me/totp/confirm', {
    token,
    body: { code: totpCode(secret, new Date()) },
  })
  assert.equal(confirm.statusCode, 200, confirm.body)
  const { recoveryCodes } = confirm.json() as { recoveryCodes: string[] }
  const api = await tp.platform.app.listen({ host: '127.0.0.1', port: 0 })
  const home = mkdtempSync(path.join(tmpdir(), 'palisade-home-'))
  t.after(() => rmSync(home, { recursive: true, force: true }))
  const env = { PALISADE_API_URL: api, HOME: home }
  const without = await runCli(
    ['login', '--email', OWNER.email, '--password-stdin'],
    env,
    `${OWNER.password}\n`,
  )
  assert.equal(without.code, 2, without.stderr)
  assert.match(without.stderr, /2FA on: pass --totp/)
  // A recovery code (a TOTP code could collide with the one just used for enrolment: replays are refused).
  const ok = await runCli(
    ['login', '--email', OWNER.email, '--password-stdin'],
    env,
    `${OWNER.password}\n${recoveryCodes[0]}\n`,
  )
  assert.equal(ok.code, 0, ok.stderr)
  assert.match(ok.stdout, /Signed in as owner@example\.com/)
})
