import assert from 'node:assert/strict'
import { test } from 'node:test'
import { runCli, startCliTour } from './support/processes.js'

test('CLI: waf decide asks the API for a signed verdict; incident declare runs the emergency brake', async (t) => {
  const { server, env } = await startCliTour(t)

  const created = await runCli(['--json', 'tokens', 'create', 'proxy', '--scopes', 'read', '--signed'], env)
  assert.equal(created.code, 0, created.stderr)
  const key = JSON.parse(created.stdout) as { id: string; token: string; signingKey: string }
  const signed = {
    HOME: env.HOME,
    PALISADE_API_URL: server.apiUrl,
    PALISADE_TOKEN: key.token,
    PALISADE_SIGNING_KEY: key.signingKey,
    PALISADE_SIGNING_KEY_ID: key.id,
  }
  const browser = [
    '--header',
    'Host: shop.example.com',
    '--header',
    'User-Agent: Mozilla/5.0',
    '--header',
    'Accept: text/html',
  ]

  const allow = await runCli(['waf', 'decide', '--uri', '/products?id=42', ...browser], signed)
  assert.equal(allow.code, 0, allow.stderr)
  assert.match(allow.stdout, /allow/)
  const deny = await runCli(
    ['--json', 'waf', 'decide', '--uri', "/products?id=1'%20OR%20'1'='1", ...browser],
    signed,
  )
  assert.equal(deny.code, 1, 'a deny exits 1')
  const verdict = JSON.parse(deny.stdout) as { decision: string; rules: string[] }
  assert.equal(verdict.decision, 'deny')
  assert.ok(verdict.rules.some((r) => r.startsWith('942')))
  const unsigned = await runCli(['waf', 'decide', '--uri', '/'], env)
  assert.equal(unsigned.code, 1)
  assert.match(unsigned.stderr, /401/)
  assert.equal((await runCli(['waf', 'decide', '--uri', '/', '--header', 'no colon'], signed)).code, 2)

  const none = await runCli(['incident', 'declare', '--reason', 'drill'], env)
  assert.equal(none.code, 2, 'no action named is a usage error')
  const drill = await runCli(['--json', 'incident', 'declare', '--notify', '--reason', 'tabletop drill'], env)
  assert.equal(drill.code, 0, drill.stderr)
  assert.equal((JSON.parse(drill.stdout) as { notified: number }).notified, 1)
  const revoke = await runCli(
    ['--json', 'incident', 'declare', '--revoke-credentials', '--reason', 'token leak'],
    env,
  )
  assert.equal(revoke.code, 0, revoke.stderr)
  assert.equal((JSON.parse(revoke.stdout) as { revokedTokens: number }).revokedTokens, 1)
  assert.equal(
    (await runCli(['waf', 'decide', '--uri', '/'], signed)).code,
    1,
    'the revoked key no longer decides',
  )
})
