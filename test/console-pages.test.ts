import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { after, describe, test } from 'node:test'
import type { BrowserContext, Page } from 'playwright-core'
import { createRepo, eventually } from '../src/deploy/testing.js'
import { send } from '../src/edge/testing.js'
import { removeSandboxes } from './services-helpers.js'
import {
  assertAccessible,
  CHROMIUM_SKIP,
  CONSOLE_DIR,
  launchContext,
  SCREENSHOTS,
  startServerProcess,
  type ServerProcess,
} from './support/console-browser.js'
import { OWNER } from './support/platform.js'
import { startDns, type DnsRecords } from './support/dns.js'
import { freePort, REPO } from './support/processes.js'

/**
 * The console's environment and workspace pages (issue #24: services, backups, sync, access, domains, WAF
 * settings, runtime plan; member roles, SSH keys, IP groups, audit export) in a real chromium against a real
 * `palisade serve`: each page is opened, does its main action, and the result is read back through the API;
 * bad input shows the API's message beside its field; axe-core finds nothing serious; a viewer is offered none
 * of the changes and the server refuses them all the same.
 */

const MEMBER = { email: 'dev@example.com', password: 'a sturdy passphrase for members 8' }
const XSS = '<img src=x onerror=alert(1)>'

describe(
  'the console environment and workspace pages in a real browser',
  { skip: CHROMIUM_SKIP, timeout: 600_000 },
  () => {
    const cleanups: Array<() => Promise<void> | void> = []
    const defer = (fn: () => Promise<void> | void) => void cleanups.push(fn)
    after(async () => {
      for (const fn of cleanups.reverse()) await Promise.resolve(fn()).catch(() => undefined)
    })
    const pageErrors: string[] = []
    let server: ServerProcess
    let root = ''
    let dataDir = ''
    let edgePort = 0
    let shotDir = ''
    let token = ''
    let envId = ''
    let devEnvId = ''
    let memberId = ''
    let owner: BrowserContext
    let page: Page
    /** The DNS answers domain proofs get (PALISADE_TEST_DNS_SERVER). */
    const dns: DnsRecords = { a: new Map(), txt: new Map() }

    const base = () => server.apiUrl
    const api = async (method: string, url: string, body?: unknown, bearer = token) => {
      const res = await fetch(base() + url, {
        method,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
      const text = await res.text()
      return { status: res.status, json: (text ? JSON.parse(text) : null) as Record<string, unknown> }
    }
    const items = async (url: string) =>
      (await api('GET', url)).json['items'] as Array<Record<string, unknown>>
    const shot = async (name: string) => {
      await page.screenshot({ path: path.join(shotDir, `${name}.png`), fullPage: true })
    }
    const open = async (p: Page, url: string, heading: string | RegExp) => {
      await p.goto(base() + url)
      await p.getByRole('heading', { name: heading }).first().waitFor()
    }
    async function context(name: string): Promise<BrowserContext> {
      const c = await launchContext(name, defer)
      const watch = (p: Page) => {
        p.on('pageerror', (e) => pageErrors.push(String(e)))
        p.on('dialog', (d) => {
          pageErrors.push(`a dialog opened: ${d.message()}`)
          void d.dismiss()
        })
        p.on('console', (m) => {
          if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) pageErrors.push(m.text())
        })
      }
      c.on('page', watch)
      for (const p of c.pages()) watch(p)
      return c
    }
    async function signIn(c: BrowserContext, who: { email: string; password: string }): Promise<Page> {
      const p = c.pages()[0] ?? (await c.newPage())
      await p.goto(base() + '/')
      await p.getByLabel('E-mail').fill(who.email)
      await p.getByLabel('Password').fill(who.password)
      await p.getByRole('button', { name: 'Sign in' }).click()
      await p.getByRole('heading', { name: 'Workspaces' }).waitFor()
      return p
    }

    test('set-up: a real palisade serve, a project with two environments and a second member', async () => {
      if (!existsSync(path.join(CONSOLE_DIR, 'index.html'))) {
        const built = spawnSync('npm', ['run', 'console:build'], { cwd: REPO, encoding: 'utf8' })
        assert.equal(built.status, 0, built.stderr)
      }
      root = mkdtempSync(path.join(tmpdir(), 'palisade-console-pages-'))
      chmodSync(root, 0o711)
      defer(() => rmSync(root, { recursive: true, force: true }))
      shotDir = SCREENSHOTS ? path.join(REPO, 'docs', 'console') : path.join(root, 'shots')
      mkdirSync(shotDir, { recursive: true })
      dataDir = path.join(root, 'data')
      const responder = await startDns(dns)
      defer(() => responder.close())
      const repo = createRepo(path.join(root, 'shop'))
      repo.commit({ 'index.html': 'hello\n' })
      edgePort = await freePort()
      server = await startServerProcess({
        PALISADE_DATA_DIR: dataDir,
        PALISADE_MASTER_KEY: 'd'.repeat(64),
        PALISADE_EDGE_HTTP_LISTEN: `127.0.0.1:${edgePort}`,
        PALISADE_EDGE_HTTPS_LISTEN: `127.0.0.1:${await freePort()}`,
        PALISADE_GIT_LOCAL_ROOTS: root,
        PALISADE_TEST_HOOKS: '1',
        PALISADE_TEST_DNS_SERVER: `127.0.0.1:${responder.port}`,
      })
      defer(() => server.stop())
      defer(() => removeSandboxes([envId, devEnvId].filter(Boolean)))
      const setupToken = readFileSync(path.join(dataDir, 'setup-token'), 'utf8').trim()
      assert.equal(
        (await api('POST', '/v1/setup', { token: setupToken, ...OWNER, workspace: 'acme' }, '')).status,
        201,
      )
      token = (await api('POST', '/v1/sessions', OWNER, '')).json['token'] as string
      const project = await api('POST', '/v1/workspaces/acme/projects', {
        name: 'shop',
        repository: repo.dir,
      })
      assert.equal(project.status, 201, JSON.stringify(project.json))
      const pid = project.json['id'] as string
      const env = (name: string) =>
        api('POST', `/v1/projects/${pid}/environments`, {
          name,
          branch: 'main',
          criticality: 'staging',
          runtime: 'static',
          // A directory both declare: something a sync copies (and a backup holds) without a database.
          persistentDirs: ['uploads'],
        })
      const main = await env('main')
      assert.equal(main.status, 201, JSON.stringify(main.json))
      envId = main.json['id'] as string
      devEnvId = (await env('dev')).json['id'] as string
      // A second member (developer), invited and accepted through the API; the owner changes its role in the page.
      assert.equal(
        (await api('POST', '/v1/workspaces/acme/members', { email: MEMBER.email, role: 'developer' })).status,
        201,
      )
      const outbox = path.join(dataDir, 'outbox')
      const mail = await eventually(() => {
        for (const f of existsSync(outbox) ? readdirSync(outbox) : []) {
          const text = readFileSync(path.join(outbox, f), 'utf8').replace(/=\r?\n/g, '')
          if (text.includes(MEMBER.email)) return text
        }
        return undefined
      })
      const inv = /\/invitations\/(inv_[A-Za-z0-9_-]+)/.exec(mail)?.[1]
      assert.ok(inv)
      const accepted = await api('POST', `/v1/invitations/${inv}/accept`, { password: MEMBER.password }, '')
      assert.equal(accepted.status, 201, JSON.stringify(accepted.json))
      memberId = accepted.json['userId'] as string
      owner = await context('owner')
      page = await signIn(owner, OWNER)
    })

    test('IP groups: a bad address shows its error beside the field; a group is created', async () => {
      await open(page, '/workspaces/acme/ip-groups', 'IP groups of acme')
      await page.getByLabel('Group name').fill('office')
      await page.getByLabel(/Addresses \(CIDR/).fill('not-an-address')
      await page.getByRole('button', { name: 'Create the group' }).click()
      await page.locator('#f-cidrs-err').waitFor()
      assert.match((await page.getByRole('alert').first().textContent()) ?? '', /request id/)
      await page.getByLabel(/Addresses \(CIDR/).fill('203.0.113.0/24\n198.51.100.7/32')
      await page.getByRole('button', { name: 'Create the group' }).click()
      await page.getByRole('cell', { name: 'office', exact: true }).waitFor()
      const groups = await items('/v1/workspaces/acme/ip-groups')
      assert.deepEqual(
        groups.map((g) => [g['name'], g['cidrs']]),
        [['office', ['203.0.113.0/24', '198.51.100.7/32']]],
      )
      await assertAccessible(page, 'ip groups')
      await shot('ip-groups')
    })

    test('SSH keys: a pasted public key is added and listed with its fingerprint', async () => {
      const keyFile = path.join(root, 'id_ed25519')
      const gen = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'laptop', '-f', keyFile])
      assert.equal(gen.status, 0, String(gen.stderr))
      const publicKey = readFileSync(`${keyFile}.pub`, 'utf8').trim()
      await open(page, '/workspaces/acme/ssh-keys', 'Your SSH keys')
      await page.getByLabel(/Public key/).fill('ssh-ed25519 not-base64!')
      await page.getByRole('button', { name: 'Add key' }).click()
      await page.getByRole('alert').first().waitFor()
      await page.getByLabel(/Public key/).fill(publicKey)
      await page.getByLabel('Name (optional)').fill(XSS)
      await page.getByRole('button', { name: 'Add key' }).click()
      const keys = await eventually(async () => {
        const k = await items('/v1/me/ssh-keys')
        return k.length ? k : undefined
      })
      await page.getByRole('cell', { name: keys[0]?.['fingerprint'] as string }).waitFor()
      assert.equal(
        await page.getByRole('cell', { name: XSS, exact: true }).count(),
        1,
        'the name renders as text',
      )
      assert.equal(await page.locator('main img').count(), 0)
      await assertAccessible(page, 'ssh keys')
    })

    test("members: an admin changes a member's role from the list", async () => {
      await open(page, '/workspaces/acme/members', 'Members of acme')
      await page.getByLabel(`Role of ${MEMBER.email}`).selectOption('viewer')
      await page.getByText(`${MEMBER.email} is now viewer.`).waitFor()
      const m = (await items('/v1/workspaces/acme/members')).find((x) => x['userId'] === memberId)
      assert.equal(m?.['role'], 'viewer')
      assert.equal(
        await page.getByLabel(`Role of ${OWNER.email}`).count(),
        0,
        'no one changes their own role',
      )
      await assertAccessible(page, 'members')
    })

    test('services: a service is added and listed with its usage', async () => {
      await open(page, `/environments/${envId}/services`, 'Services')
      await page.getByLabel('Type').selectOption('redis')
      await page.getByLabel('Service name (optional)').fill('cache')
      await page.getByRole('button', { name: 'Add service' }).click()
      await page.getByRole('cell', { name: 'cache', exact: true }).waitFor()
      const services = await items(`/v1/environments/${envId}/services`)
      assert.deepEqual(
        services.map((s) => [s['name'], s['type']]),
        [['cache', 'redis']],
      )
      const headers = await page.getByTestId('services-table').locator('th').allTextContents()
      assert.ok(headers.includes('Data') && headers.includes('Memory'), 'usage columns')
      await assertAccessible(page, 'services')
      await shot('services')
    })

    test('backups: created with progress, downloaded, restored after a typed confirmation, scheduled', async () => {
      await open(page, `/environments/${envId}/backups`, 'Backups')
      await page.getByRole('button', { name: 'Create a backup' }).click()
      await page.getByTestId('backup-progress').waitFor()
      const backup = await eventually(async () => {
        const b = (await items(`/v1/environments/${envId}/backups`))[0]
        return b && b['status'] !== 'running' ? b : undefined
      }, 120_000)
      assert.equal(backup['status'], 'succeeded', JSON.stringify(backup))
      await page.getByTestId('backups-table').getByText('succeeded').waitFor({ timeout: 20_000 })
      const href = await page.getByRole('link', { name: 'Download' }).first().getAttribute('href')
      assert.equal(href, `/v1/backups/${backup['id'] as string}/download`)
      const download = await page.request.get(base() + href)
      assert.equal(download.status(), 200)
      assert.ok((await download.body()).length > 0)

      await page
        .getByRole('button', { name: /^Restore the backup of/ })
        .first()
        .click()
      const confirm = page.getByRole('button', { name: 'Restore this backup' })
      assert.equal(await confirm.isDisabled(), true, 'not before the environment name is typed')
      await page.getByLabel(/type main to confirm/).fill('mian')
      assert.equal(await confirm.isDisabled(), true)
      await page.getByLabel(/type main to confirm/).fill('main')
      await confirm.click()
      await page.getByTestId('restore-done').waitFor({ timeout: 120_000 })

      await page.getByLabel('Scheduled backups on').check()
      await page.getByLabel(/Every \(hours/).fill('500')
      await page.getByRole('button', { name: 'Save schedule' }).click()
      await page.locator('#f-everyHours-err').waitFor()
      await page.getByLabel(/Every \(hours/).fill('12')
      await page.getByRole('button', { name: 'Save schedule' }).click()
      await page.getByTestId('schedule-state').getByText('every 12 h').waitFor()
      const schedule = (await api('GET', `/v1/environments/${envId}/backup-schedule`)).json
      assert.equal(schedule['enabled'], true)
      assert.equal(schedule['everyHours'], 12)
      await assertAccessible(page, 'backups')
      await shot('backups')
    })

    test('sync: anonymization rules are saved and a sync from another environment starts', async () => {
      await open(page, `/environments/${envId}/sync`, /Sync data/)
      await page.getByRole('button', { name: 'Add a rule' }).click()
      await page.getByLabel('Table').fill('users')
      await page.getByLabel('Column').fill('email')
      await page.getByLabel('Method').selectOption('fake-email')
      await page.getByRole('button', { name: 'Save rules' }).click()
      await page.getByText(/Saved 1 rules/).waitFor()
      const project = (await api('GET', `/v1/environments/${envId}`)).json['projectId'] as string
      const rules = (await api('GET', `/v1/projects/${project}/anonymization`)).json['rules']
      assert.deepEqual(rules, [{ service: 'mariadb', table: 'users', column: 'email', method: 'fake-email' }])
      await page.getByLabel('Copy from').selectOption(devEnvId)
      await page.getByRole('button', { name: 'Start sync' }).click()
      await page.getByTestId('sync-progress').or(page.getByRole('alert')).first().waitFor()
      const problem = page.getByRole('alert')
      assert.equal(await problem.count(), 0, (await problem.allTextContents()).join(' '))
      const syncs = await eventually(async () => {
        const s = await items(`/v1/environments/${envId}/syncs`)
        return s.length ? s : undefined
      })
      assert.equal(syncs[0]?.['sourceEnvironmentId'], devEnvId)
      await assertAccessible(page, 'sync')
      await shot('sync')
    })

    test('access: a bad CIDR is named beside its field; allow list, group and password are saved; maintenance', async () => {
      await open(page, `/environments/${envId}/access`, 'Access')
      await page.getByLabel(/Allowed addresses/).fill('10.0.0.0/8\n999.1.1.1/8')
      await page.getByRole('button', { name: 'Save access rules' }).click()
      await page.locator('#f-ipAllow-err').waitFor()
      await page.getByLabel(/Allowed addresses/).fill('10.0.0.0/8')
      await page.getByLabel(/office/).check()
      await page.getByLabel(/Password protection/).check()
      await page.getByLabel('User name').fill('preview')
      await page.getByLabel('Site password').fill('a preview password')
      await page.getByRole('button', { name: 'Save access rules' }).click()
      await page.getByTestId('access-state').getByText('on (user preview)').waitFor()
      const access = (await api('GET', `/v1/environments/${envId}/access`)).json
      const group = (await items('/v1/workspaces/acme/ip-groups'))[0]?.['id']
      assert.deepEqual(access, {
        ipAllow: ['10.0.0.0/8'],
        ipGroups: [group],
        password: { username: 'preview' },
      })

      // Saving IP rules again does not ask for the site password: the form sends only what changed.
      await page.getByLabel(/Allowed addresses/).fill('127.0.0.1/32')
      assert.equal(await page.getByLabel(/Site password/).inputValue(), '', 'the password field starts empty')
      const sent: string[] = []
      page.on('request', (r) => {
        if (r.url().endsWith(`/v1/environments/${envId}/access`) && r.method() !== 'GET')
          sent.push(`${r.method()} ${r.postData() ?? ''}`)
      })
      await page.getByRole('button', { name: 'Save access rules' }).click()
      await page.getByTestId('access-state').getByText('127.0.0.1/32').waitFor()
      assert.deepEqual(sent, ['PATCH {"ipAllow":["127.0.0.1/32"]}'])
      assert.deepEqual((await api('GET', `/v1/environments/${envId}/access`)).json, {
        ipAllow: ['127.0.0.1/32'],
        ipGroups: [group],
        password: { username: 'preview' },
      })
      await page.getByRole('button', { name: 'Save access rules' }).click()
      await page.getByText('Nothing to save: no rule was changed.').waitFor()
      assert.equal(sent.length, 1, 'an unchanged form sends nothing')
      // The kept password still works at the edge (nothing is deployed: past the checks the edge answers 503).
      const host = (await api('GET', `/v1/environments/${envId}`)).json['host'] as string
      const basic = (user: string, pw: string) => ({
        authorization: `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}`,
      })
      await eventually(async () => (await send(edgePort, { host })).status === 401)
      assert.equal(
        (await send(edgePort, { host, headers: basic('preview', 'not the password') })).status,
        401,
      )
      assert.equal(
        (await send(edgePort, { host, headers: basic('preview', 'a preview password') })).status,
        503,
      )

      await page.getByRole('button', { name: 'Turn maintenance on' }).click()
      await eventually(
        async () => (await api('GET', `/v1/environments/${envId}/status`)).json['maintenance'] === true,
      )
      await eventually(async () => {
        await page.getByRole('button', { name: 'Refresh state' }).click()
        return /is on/.test((await page.getByTestId('maintenance-state').textContent()) ?? '')
      })
      await assertAccessible(page, 'access')
      await shot('access')
    })

    test('domains: a bad name shows the API message; a domain is added with its proof of ownership', async () => {
      await open(page, `/environments/${envId}/domains`, 'Domains and certificates')
      await page.getByLabel('Domain name').fill('bad_domain!')
      await page.getByRole('button', { name: 'Add domain' }).click()
      await page.getByRole('alert').first().waitFor()
      assert.match((await page.getByRole('alert').first().textContent()) ?? '', /HTTP 400, request id/)
      await page.getByLabel('Domain name').fill('shop.example.com')
      await page.getByRole('button', { name: 'Add domain' }).click()
      await page.getByRole('cell', { name: 'shop.example.com', exact: true }).waitFor()
      const domains = await items(`/v1/environments/${envId}/domains`)
      assert.deepEqual(
        domains.map((d) => [d['name'], d['status']]),
        [['shop.example.com', 'pending']],
      )
      assert.equal((domains[0]?.['certificate'] as { status: string }).status, 'none')
      // Proven by its DNS TXT record: routed, and its certificate (the local CA's: no ACME directory here) shown.
      const proof = (domains[0]?.['verification'] as { dns: { name: string; value: string } }).dns
      dns.txt.set(proof.name, proof.value)
      await page.getByRole('button', { name: 'Check now: shop.example.com' }).click()
      const cell = page.getByTestId('certificate-shop.example.com')
      await cell.getByText('local CA').waitFor()
      const certificate = (await items(`/v1/environments/${envId}/domains`))[0]?.['certificate'] as {
        source: string
        status: string
      }
      assert.equal(certificate.source, 'local_ca')
      assert.match((await cell.textContent()) ?? '', new RegExp(certificate.status))
      await assertAccessible(page, 'domains')
      await shot('domains')
    })

    test('WAF settings: paranoia, threshold and an exclusion are saved (the WAF stays on)', async () => {
      await open(page, `/environments/${envId}/waf`, 'WAF settings')
      await page.getByLabel('Paranoia level').selectOption('2')
      await page.getByLabel('Inbound anomaly threshold').fill('10')
      await page.getByLabel(/Rule exclusions/).fill('942100 target ARGS:q')
      await page.getByRole('button', { name: 'Save WAF settings' }).click()
      await page.getByTestId('waf-state').getByText('rule 942100 target ARGS:q').waitFor()
      const waf = (await api('GET', `/v1/environments/${envId}/waf`)).json
      assert.equal(waf['paranoia'], 2)
      assert.equal(waf['inboundThreshold'], 10)
      assert.deepEqual(waf['exclusions'], [{ ruleId: 942100, target: 'ARGS:q' }])
      assert.equal(waf['mode'], 'blocking')
      await assertAccessible(page, 'waf settings')
      await shot('waf-settings')
    })

    test('runtime: the update plan shows and updates are postponed to a date', async () => {
      await open(page, `/environments/${envId}/runtime`, 'Runtime updates')
      await page.getByLabel(/Postpone updates until/).fill('next week')
      await page.getByRole('button', { name: 'Postpone' }).click()
      await page.locator('#f-until-err').waitFor()
      const day = new Date(Date.now() + 7 * 86_400_000).toISOString().slice(0, 10)
      await page.getByLabel(/Postpone updates until/).fill(day)
      await page.getByRole('button', { name: 'Postpone' }).click()
      await eventually(
        async () => (await page.getByTestId('postponed-until').textContent()) !== 'not postponed',
      )
      const plan = (await api('GET', `/v1/environments/${envId}/runtime-updates`)).json
      assert.ok(typeof plan['postponedUntil'] === 'string', JSON.stringify(plan))
      await assertAccessible(page, 'runtime')
      await shot('runtime')
    })

    test('audit: the filtered log is exported as JSON Lines', async () => {
      await open(page, '/workspaces/acme/audit', 'Audit log of acme')
      await page.getByLabel(/From day/).fill('yesterday')
      await page.getByRole('button', { name: 'Filter' }).click()
      await page.locator('#f-since-err').waitFor()
      await page.getByLabel(/From day/).fill('')
      await page.getByLabel(/^Action/).fill('member.*')
      await page.getByRole('button', { name: 'Filter' }).click()
      const downloaded = page.waitForEvent('download')
      await page.getByRole('button', { name: 'Export (JSON Lines)' }).click()
      const file = await (await downloaded).path()
      const events = readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { action: string; seq: number })
      assert.ok(events.length > 0)
      assert.ok(
        events.every((e) => e.action.startsWith('member.')),
        'the export honours the filter',
      )
      assert.ok(
        events.some((e) => e.action === 'member.update'),
        'the role change is in it',
      )
      await page.getByTestId('audit-exported').waitFor()
      await assertAccessible(page, 'audit (filtered)')
    })

    test('a viewer is offered none of the changes, and the server refuses them all the same', async () => {
      const viewer = await context('viewer')
      const vp = await signIn(viewer, MEMBER)
      const offered = async (name: string | RegExp) => vp.getByRole('button', { name }).count()
      await open(vp, `/environments/${envId}/services`, 'Services')
      await vp.getByRole('cell', { name: 'cache', exact: true }).waitFor()
      assert.equal(await offered('Add service'), 0)
      assert.equal(await offered(/Delete service/), 0)
      await open(vp, `/environments/${envId}/backups`, 'Backups')
      await vp.getByTestId('backups-table').waitFor()
      assert.equal(await offered('Create a backup'), 0)
      assert.equal(await offered(/^Restore/), 0)
      assert.equal(await offered('Save schedule'), 0)
      await open(vp, `/environments/${envId}/access`, 'Access')
      await vp.getByTestId('access-state').waitFor()
      assert.equal(await offered('Save access rules'), 0)
      assert.equal(await offered('Turn maintenance on'), 0)
      await open(vp, `/environments/${envId}/domains`, 'Domains and certificates')
      await vp.getByRole('cell', { name: 'shop.example.com', exact: true }).waitFor()
      assert.equal(await offered('Add domain'), 0)
      await open(vp, `/environments/${envId}/waf`, 'WAF settings')
      await vp.getByTestId('waf-state').waitFor()
      assert.equal(await offered('Save WAF settings'), 0)
      await open(vp, `/environments/${envId}/runtime`, 'Runtime updates')
      await vp.getByTestId('runtime-state').waitFor()
      assert.equal(await offered('Postpone'), 0)
      await open(vp, '/workspaces/acme/ip-groups', 'IP groups of acme')
      await vp.getByRole('cell', { name: 'office', exact: true }).waitFor()
      assert.equal(await offered('Create the group'), 0)
      await open(vp, '/workspaces/acme/members', 'Members of acme')
      await vp.getByTestId('members-table').waitFor()
      assert.equal(await vp.getByRole('combobox').count(), 0, 'no role can be changed')
      await assertAccessible(vp, 'environment tab as a viewer')
      const refused = (await vp.evaluate(
        `Promise.all([
        fetch('/v1/environments/${envId}/backups', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }),
        fetch('/v1/environments/${envId}/services', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"type":"redis"}' }),
        fetch('/v1/environments/${envId}/waf', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"paranoia":1}' }),
        fetch('/v1/workspaces/acme/members/${memberId}', { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"role":"owner"}' }),
      ]).then((rs) => rs.map((r) => r.status))`,
      )) as number[]
      assert.deepEqual(refused, [403, 403, 403, 403])
    })

    test('a long list pages by 20, and a row is deleted by keyboard after its typed confirmation', async () => {
      for (let i = 1; i <= 21; i++) {
        const name = `zz-${String(i).padStart(2, '0')}`
        const res = await api('POST', '/v1/workspaces/acme/ip-groups', { name, cidrs: [`192.0.2.${i}/32`] })
        assert.equal(res.status, 201, JSON.stringify(res.json))
      }
      await open(page, '/workspaces/acme/ip-groups', 'IP groups of acme')
      const rows = page.getByTestId('ip-groups-table').locator('tbody tr')
      await page.getByText('Page 1 of 2').waitFor()
      assert.equal(await rows.count(), 20)
      assert.equal(await page.getByRole('button', { name: 'Previous page' }).isDisabled(), true)
      await page.getByRole('button', { name: 'Next page' }).focus()
      await page.keyboard.press('Enter')
      await page.getByText('Page 2 of 2').waitFor()
      assert.deepEqual(await rows.locator('td:first-child').allTextContents(), ['zz-20', 'zz-21'])

      await page.getByRole('button', { name: 'Delete zz-21' }).focus()
      await page.keyboard.press('Enter')
      const confirm = page.getByLabel(/type zz-21 to confirm/)
      await confirm.waitFor()
      const button = page.getByRole('button', { name: 'Delete the group' })
      await confirm.fill('zz-2')
      assert.equal(await button.isDisabled(), true, 'not before the name is typed in full')
      await page.keyboard.press('Enter')
      assert.equal(
        (await items('/v1/workspaces/acme/ip-groups')).length,
        22,
        'Enter on a wrong word sends nothing',
      )
      await confirm.fill('zz-21')
      await page.keyboard.press('Enter')
      await confirm.waitFor({ state: 'detached' })
      const names = (await items('/v1/workspaces/acme/ip-groups')).map((g) => g['name'])
      assert.equal(names.length, 21)
      assert.ok(!names.includes('zz-21'))
      await page.getByRole('cell', { name: 'zz-20', exact: true }).waitFor()
      await assertAccessible(page, 'paged list')
    })

    test('no script error, dialog or CSP violation in any page', () => {
      assert.deepEqual(pageErrors, [])
    })
  },
)
