import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { runCli, removeAfterServers, startServer } from './support/processes.js'

const PASSWORD = 'correct horse battery staple 42'

test('a new user sets up, creates a workspace, a project and two environments, sets variables, and finds them after a restart', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'palisade-cli-'))
  removeAfterServers(t, dir)
  const dataDir = path.join(dir, 'data')
  const home = path.join(dir, 'home')
  const serverEnv = {
    PALISADE_DATA_DIR: dataDir,
    PALISADE_EDGE_HTTP_LISTEN: '127.0.0.1:0',
    PALISADE_EDGE_HTTPS_LISTEN: '127.0.0.1:0',
  }
  let server = await startServer(t, serverEnv)
  assert.match(server.output(), /setup token/i)
  const tokenFile = path.join(dataDir, 'setup-token')
  assert.equal(statSync(tokenFile).mode & 0o777, 0o600)

  const env = { HOME: home, PALISADE_API_URL: server.apiUrl, PALISADE_DATA_DIR: dataDir }
  const setup = await runCli(
    ['setup', '--email', 'owner@example.com', '--workspace', 'acme', '--password-stdin'],
    env,
    PASSWORD + '\n',
  )
  assert.equal(setup.code, 0, setup.stderr)
  const credentials = path.join(home, '.config/palisade/credentials.json')
  assert.equal(statSync(credentials).mode & 0o777, 0o600)

  assert.throws(() => readFileSync(tokenFile), /ENOENT/, 'the token file is removed once setup is done')
  const again = await runCli(
    [
      'setup',
      '--token',
      'pst_anything',
      '--email',
      'x@example.com',
      '--workspace',
      'other',
      '--password-stdin',
    ],
    env,
    PASSWORD + '\n',
  )
  assert.equal(again.code, 1)
  assert.match(again.stderr, /setup_complete/)

  const login = await runCli(
    ['login', '--email', 'owner@example.com', '--password-stdin'],
    env,
    PASSWORD + '\n',
  )
  assert.equal(login.code, 0, login.stderr)

  assert.equal(
    (await runCli(['projects', 'create', 'shop', '--repository', 'https://git.example.com/shop.git'], env))
      .code,
    0,
  )
  assert.equal(
    (await runCli(['envs', 'create', 'main', '--project', 'shop', '--criticality', 'production'], env)).code,
    0,
  )
  assert.equal(
    (await runCli(['envs', 'create', 'staging', '--project', 'shop', '--branch', 'develop'], env)).code,
    0,
  )
  const list = await runCli(['--json', 'envs', 'list', '--project', 'shop'], env)
  assert.equal(list.code, 0, list.stderr)
  const envs = JSON.parse(list.stdout) as { items: Array<{ name: string; host: string }> }
  assert.deepEqual(
    envs.items.map((e) => e.host),
    ['main.shop.acme.localhost', 'staging.shop.acme.localhost'],
  )

  assert.equal(
    (await runCli(['vars', 'set', 'API_KEY=hunter2-secret', '--secret', '--env', 'shop/main'], env)).code,
    0,
  )
  assert.equal((await runCli(['vars', 'set', 'MODE=fast', 'LEVEL=3', '--env', 'shop/main'], env)).code, 0)
  const vars = await runCli(['vars', 'list', '--env', 'shop/main'], env)
  assert.equal(vars.code, 0)
  assert.match(vars.stdout, /API_KEY/)
  assert.match(vars.stdout, /MODE\s+fast/)
  assert.ok(!vars.stdout.includes('hunter2-secret'))

  const bad = await runCli(['envs', 'create', 'Bad_Name', '--project', 'shop'], env)
  assert.equal(bad.code, 1)
  assert.match(bad.stderr, /invalid_request.*HTTP 400.*request req_/)

  await server.stop()
  server = await startServer(t, serverEnv, server.port)
  const after = await runCli(['--json', 'vars', 'list', '--env', 'shop/main'], {
    ...env,
    PALISADE_API_URL: server.apiUrl,
  })
  assert.equal(after.code, 0, after.stderr)
  assert.deepEqual(
    (JSON.parse(after.stdout) as { items: Array<{ name: string }> }).items.map((v) => v.name),
    ['API_KEY', 'LEVEL', 'MODE'],
  )
  const verify = await runCli(['audit', 'verify'], { ...env, PALISADE_API_URL: server.apiUrl })
  assert.equal(verify.code, 0, verify.stderr)
  assert.match(verify.stdout, /OK: \d+ events verified/)
})

test('the CLI explains usage errors with exit code 2 and prints help', async () => {
  const help = await runCli(['--help'], {})
  assert.equal(help.code, 0)
  assert.match(help.stdout, /workspaces/)
  const usage = await runCli(['vars', 'set', 'NOEQUALS', '--env', 'env_aaaaaaaaaaaaaaaaaaaa'], {
    PALISADE_API_URL: 'http://127.0.0.1:9',
  })
  assert.equal(usage.code, 2)
  const down = await runCli(['workspaces', 'list'], {
    PALISADE_API_URL: 'http://127.0.0.1:9',
    PALISADE_TOKEN: 'pss_x',
  })
  assert.equal(down.code, 1)
  assert.match(down.stderr, /cannot reach/)
})
