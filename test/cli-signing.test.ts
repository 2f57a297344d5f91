import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { runCli, startServer } from './support/processes.js'

const PASSWORD = 'correct horse battery staple 42'

test('the CLI signs every request (RFC 9421) with a signed token; without the key the token is refused', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'palisade-cli-sign-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const dataDir = path.join(dir, 'data')
  const server = await startServer(t, {
    PALISADE_DATA_DIR: dataDir,
    PALISADE_EDGE_HTTP_LISTEN: '127.0.0.1:0',
    PALISADE_EDGE_HTTPS_LISTEN: '127.0.0.1:0',
  })
  const env = { HOME: path.join(dir, 'home'), PALISADE_API_URL: server.apiUrl, PALISADE_DATA_DIR: dataDir }
  const setup = await runCli(
    ['setup', '--email', 'owner@example.com', '--workspace', 'acme', '--password-stdin'],
    env,
    PASSWORD + '\n',
  )
  assert.equal(setup.code, 0, setup.stderr)
  const created = await runCli(['--json', 'tokens', 'create', 'ci', '--scopes', 'read,write', '--signed'], env)
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
