import assert from 'node:assert/strict'
import { chownSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { isFakeEmail } from '../src/services/index.js'
import { environmentUser, mariadbSql, removeSandboxes } from './services-helpers.js'
import { runCli, startCliTour } from './support/processes.js'

const PASSWORD = 'correct horse battery staple 42'
const asRoot = process.getuid?.() === 0

test(
  'a user sets anonymization rules and syncs production into staging, files included, with the CLI',
  { skip: asRoot ? false : 'needs root: services run as the environment user' },
  async (t) => {
    const { dir, dataDir, env } = await startCliTour(t, {}, { traversable: true })
    const cli = async (args: string[], input?: string) => {
      const r = await runCli(args, env, input)
      assert.equal(r.code, 0, `palisade ${args.join(' ')}: ${r.stdout}${r.stderr}`)
      return r.stdout
    }
    await cli(['login', '--email', 'owner@example.com', '--password-stdin'], PASSWORD + '\n')
    await cli(['projects', 'create', 'shop'])
    for (const [name, criticality] of [
      ['production', 'production'],
      ['staging', 'staging'],
    ] as const)
      await cli([
        'envs',
        'create',
        name,
        '--project',
        'shop',
        '--criticality',
        criticality,
        '--persistent-dir',
        'uploads',
      ])
    const envs = JSON.parse(await cli(['--json', 'envs', 'list', '--project', 'shop'])) as {
      items: Array<{ id: string; name: string }>
    }
    t.after(() => removeSandboxes(envs.items.map((e) => e.id)))
    const idOf = (name: string): string => envs.items.find((e) => e.name === name)?.id ?? ''
    await Promise.all(
      ['production', 'staging'].map((e) =>
        cli(['services', 'create', 'mariadb', '--env', `shop/${e}`, '--wait']),
      ),
    )
    const varsOf = async (e: string): Promise<Record<string, string>> => {
      const list = JSON.parse(await cli(['--json', 'services', 'list', '--env', `shop/${e}`])) as {
        items: Array<{ id: string }>
      }
      const creds = JSON.parse(await cli(['--json', 'services', 'credentials', list.items[0]?.id ?? ''])) as {
        variables: Record<string, string>
      }
      return creds.variables
    }
    const userOf = (e: string) => environmentUser(dataDir, idOf(e))
    const prod = { vars: await varsOf('production'), user: userOf('production') }
    const staging = { vars: await varsOf('staging'), user: userOf('staging') }
    const seeded = await mariadbSql(
      prod.vars,
      `CREATE TABLE users (id INT PRIMARY KEY, email VARCHAR(200)); INSERT INTO users VALUES (1, 'ann@real.example'), (2, 'bob@real.example');`,
      prod.user,
    )
    assert.equal(seeded.code, 0, seeded.out)
    const uploads = path.join(dataDir, 'envs', idOf('production'), 'shared', 'uploads')
    mkdirSync(uploads, { recursive: true })
    writeFileSync(path.join(uploads, 'invoice-1.pdf'), 'PDF')
    chownSync(uploads, prod.user.uid, prod.user.gid)

    const rulesFile = path.join(dir, 'rules.json')
    writeFileSync(
      rulesFile,
      JSON.stringify({
        rules: [{ service: 'mariadb', table: 'users', column: 'email', method: 'fake-email' }],
      }),
    )
    assert.match(
      await cli(['anonymization', 'set', 'shop', '--file', rulesFile]),
      /Saved 1 anonymization rules\./,
    )
    assert.match(await cli(['anonymization', 'get', 'shop']), /mariadb\s+users\s+email\s+fake-email/)

    const out = await cli(['sync', 'shop/production', 'shop/staging', '--files', '--wait'])
    assert.match(
      out,
      /Sync syn_[a-z0-9]+ \(mariadb \+ files, 1 rules\) succeeded; the target's previous data is backup bkp_/,
    )
    const emails = await mariadbSql(staging.vars, 'SELECT email FROM users ORDER BY id', staging.user)
    assert.equal(emails.code, 0, emails.out)
    const list = emails.out.trim().split('\n')
    assert.equal(list.length, 2)
    assert.ok(list.every(isFakeEmail), emails.out)
    const copied = path.join(dataDir, 'envs', idOf('staging'), 'shared', 'uploads', 'invoice-1.pdf')
    assert.equal(readFileSync(copied, 'utf8'), 'PDF')
    assert.equal(statSync(copied).uid, staging.user.uid, 'copied files belong to the target environment')

    const self = await runCli(['sync', 'shop/staging', 'shop/staging'], env)
    assert.notEqual(self.code, 0)
    assert.match(self.stderr, /cannot be synced from itself/)
    const badFile = path.join(dir, 'bad.json')
    writeFileSync(
      badFile,
      '{"rules": [{"service": "mariadb", "table": "users", "column": "e mail", "method": "hash"}]}',
    )
    const bad = await runCli(['anonymization', 'set', 'shop', '--file', badFile], env)
    assert.notEqual(bad.code, 0)
    assert.match(bad.stderr, /rules\.0\.column|rules\[0\]\.column/)
    // A column the running service does not have is refused when the rules are set, naming it.
    writeFileSync(
      badFile,
      '{"rules": [{"service": "mariadb", "table": "users", "column": "mail", "method": "hash"}]}',
    )
    const missing = await runCli(['anonymization', 'set', 'shop', '--file', badFile], env)
    assert.equal(missing.code, 1)
    assert.match(
      missing.stderr,
      /table users has no column mail \(mariadb production\/mariadb, staging\/mariadb\)/,
    )
  },
)
