import assert from 'node:assert/strict'
import { test } from 'node:test'
import { runCli, startCliTour } from './support/processes.js'

test('the CLI signs every request (RFC 9421) with a signed token; without the key the token is refused', async (t) => {
  const { server, env } = await startCliTour(t)
  const created = await runCli(
    ['--json', 'tokens', 'create', 'ci', '--scopes', 'read,write', '--signed'],
    env,
  )
  assert.equal(created.code, 0, created.stderr)
  const token = JSON.parse(created.stdout) as { id: string; token: string; signingKey: string }
  assert.match(token.signingKey, /^[0-9a-f]{32,}$/)

  const asToken = { HOME: env.HOME, PALISADE_API_URL: server.apiUrl, PALISADE_TOKEN: token.token }
  const unsigned = await runCli(['whoami'], asToken)
  assert.equal(unsigned.code, 1, 'a signed token without a signature is refused')
  assert.match(unsigned.stderr, /401/)

  const signed = { ...asToken, PALISADE_SIGNING_KEY: token.signingKey, PALISADE_SIGNING_KEY_ID: token.id }
  const whoami = await runCli(['whoami'], signed)
  assert.equal(whoami.code, 0, whoami.stderr)
  assert.match(whoami.stdout, /owner@example.com/)
  // A write with a body: the Content-Digest covers exactly the JSON the CLI sends.
  const project = await runCli(['projects', 'create', 'shop', '--workspace', 'acme'], signed)
  assert.equal(project.code, 0, project.stderr)

  const wrongKey = { ...signed, PALISADE_SIGNING_KEY: 'ab'.repeat(32) }
  assert.equal((await runCli(['whoami'], wrongKey)).code, 1)
  const halfSet = { ...asToken, PALISADE_SIGNING_KEY: token.signingKey }
  assert.equal((await runCli(['whoami'], halfSet)).code, 2, 'the key without its id is a usage error')
})
