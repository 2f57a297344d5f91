import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { runCli, startCliTour } from './support/processes.js'

const NEW_PASSWORD = 'a fresh passphrase chosen from the terminal 31'

test('a forgotten password is reset from the terminal: palisade password reset <email>, then --token with the link', async (t) => {
  const { dataDir, env } = await startCliTour(t)
  const usage = await runCli(['password', 'reset'], env)
  assert.equal(usage.code, 2, usage.stderr)
  assert.match(usage.stderr, /e-mail address, or --token/)

  const asked = await runCli(['password', 'reset', 'owner@example.com'], env)
  assert.equal(asked.code, 0, asked.stderr)
  assert.match(asked.stdout, /If an account with this address exists, a link .* was e-mailed/)
  assert.match(asked.stdout, /palisade password reset --token/)

  const outbox = path.join(dataDir, 'outbox')
  let link: string | undefined
  for (let i = 0; i < 400 && !link; i++) {
    const mails = existsSync(outbox)
      ? readdirSync(outbox).map((f) =>
          readFileSync(path.join(outbox, f), 'utf8')
            .replace(/=\r?\n/g, '')
            .replace(/=3D/g, '='),
        )
      : []
    link = mails.map((m) => /(http:\/\/\S+\/password-reset\/prt_\S+)/.exec(m)?.[1]).find(Boolean)
    if (!link) await new Promise((r) => setTimeout(r, 25))
  }
  assert.ok(link, 'the reset mail is in the outbox')

  const reset = await runCli(
    ['password', 'reset', '--token', link, '--password-stdin'],
    env,
    `${NEW_PASSWORD}\n${NEW_PASSWORD}\n`,
  )
  assert.equal(reset.code, 0, reset.stderr)
  assert.match(reset.stdout, /Password changed; every session of owner@example\.com was signed out/)
  const login = await runCli(
    ['login', '--email', 'owner@example.com', '--password-stdin'],
    env,
    NEW_PASSWORD + '\n',
  )
  assert.equal(login.code, 0, login.stderr)
})
